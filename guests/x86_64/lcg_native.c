/* The loop of user_lcg.s as a host program: prints the checksum and the loop's time in nanoseconds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000;
    uint64_t x = 0x853c49e6748fea9bULL, sum = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (; n; n--) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        sum ^= x >> 33;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%llu %lld\n", (unsigned long long)sum,
           (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
    return 0;
}
