/* Float-heavy benchmark guest: an n-body step, a Mandelbrot tile, Newton square roots, single-precision
 * dot products and int<->float conversions. Prints result bits and fflags in hex, so a run in polyvm
 * can be compared with QEMU byte for byte. */
#include <stdint.h>

#include "../../guests/baremetal/htif.h"

#ifndef ITERATIONS
#define ITERATIONS 1
#endif

static volatile int iterations = ITERATIONS;

typedef struct { double x, y, z, vx, vy, vz, m; } body_t;
static body_t bodies[5] = {
    {0, 0, 0, 0, 0, 0, 39.47841760435743},
    {4.84, -1.16, -0.10, 0.606, 2.81, -0.02, 0.037},
    {8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.011},
    {12.89, -15.11, -0.22, 1.08, 0.868, -0.01, 0.0017},
    {15.37, -25.91, 0.179, 0.979, 0.594, -0.034, 0.002},
};
static float vec_a[64], vec_b[64];

static uint64_t bits(double d)
{
    union { double d; uint64_t u; } v = {d};
    return v.u;
}

static double nbody(void)
{
    for (int step = 0; step < 20; step++) {
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) {
                double dx = bodies[i].x - bodies[j].x, dy = bodies[i].y - bodies[j].y;
                double dz = bodies[i].z - bodies[j].z;
                double d2 = dx * dx + dy * dy + dz * dz;
                double mag = 0.01 / (d2 * __builtin_sqrt(d2));
                bodies[i].vx -= dx * bodies[j].m * mag;
                bodies[i].vy -= dy * bodies[j].m * mag;
                bodies[i].vz -= dz * bodies[j].m * mag;
                bodies[j].vx += dx * bodies[i].m * mag;
                bodies[j].vy += dy * bodies[i].m * mag;
                bodies[j].vz += dz * bodies[i].m * mag;
            }
        for (int i = 0; i < 5; i++) {
            bodies[i].x += 0.01 * bodies[i].vx;
            bodies[i].y += 0.01 * bodies[i].vy;
            bodies[i].z += 0.01 * bodies[i].vz;
        }
    }
    return bodies[0].x + bodies[1].y + bodies[4].vz;
}

static uint64_t mandelbrot(void)
{
    uint64_t inside = 0;
    for (int py = 0; py < 12; py++)
        for (int px = 0; px < 16; px++) {
            double cr = -2.0 + px * 0.17, ci = -1.1 + py * 0.19, zr = 0, zi = 0;
            int k = 0;
            while (k < 40 && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                k++;
            }
            inside += (uint64_t)k;
        }
    return inside;
}

static double newton(double x)
{
    double r = x > 1 ? x / 2 : 1;
    for (int i = 0; i < 12; i++)
        r = 0.5 * (r + x / r);
    return r;
}

static float dot(int round)
{
    for (int i = 0; i < 64; i++) {
        vec_a[i] = (float)(i + round) * 0.37f;
        vec_b[i] = 1.0f / (float)(i + 1);
    }
    float acc = 0.0f;
    for (int i = 0; i < 64; i++)
        acc = __builtin_fmaf(vec_a[i], vec_b[i], acc);
    return acc;
}

int main(void)
{
    uint64_t checksum = 0;
    for (int round = 0; round < iterations; round++) {
        checksum ^= bits(nbody());
        checksum += mandelbrot();
        checksum ^= bits(newton(2.0 + round));
        union { float f; uint32_t u; } d = {dot(round)};
        checksum += d.u;
        checksum += (uint64_t)(int64_t)(newton(1e10) * 3.5) + (uint64_t)(float)(round * 7);
    }
    uint64_t fflags;
    __asm__ volatile("frflags %0" : "=r"(fflags));
    htif_puts("float_mix checksum ");
    htif_put_hex(checksum);
    htif_puts(" fflags ");
    htif_put_hex(fflags);
    htif_puts("\n");
    return 0;
}
