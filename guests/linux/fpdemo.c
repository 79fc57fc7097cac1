/* A Linux user program doing double (and float) arithmetic, printed exactly: run under polyvm's
 * Linux guest and under qemu-riscv64, its output must be byte-identical. */
#include <math.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    double x = 1.0, sum = 0.0, prod = 1.0;
    for (int i = 1; i <= 200; i++) {
        x = x * 1.0001 + 1.0 / i;
        sum += sqrt(x) / (i + 0.5);
        prod *= 1.0 + 1e-3 / i;
    }
    printf("x=%.17g sum=%.17g prod=%.17g\n", x, sum, prod);
    printf("exp=%.17g log=%.17g sin=%.17g atan2=%.17g\n", exp(sum), log(x), sin(x), atan2(sum, -x));
    printf("pow=%.17g fma=%.17g hypot=%.17g\n", pow(x, 0.3), fma(x, sum, -prod), hypot(x, sum));
    float f = 0.1f;
    for (int i = 0; i < 50; i++)
        f = f * 1.5f - 0.05f / (float)(i + 1);
    printf("float=%.9g as-int=%ld round=%ld\n", (double)f, (long)(x * 1e6), lround(sum * 1e9));
    double tiny = 1e-300 * 1e-10, huge = 1e300 * 1e10;
    printf("tiny=%.17g huge=%g nan=%g neg0=%g\n", tiny, huge, huge - huge, -0.0 * 1.0);
    return 0;
}
