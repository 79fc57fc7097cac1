/* CPU-bound benchmark guest: integer kernels typical of real programs (a sieve, CRC-32, a small
 * matrix multiply, an insertion sort, a hash-table walk). ITERATIONS is set at build time; the
 * program prints a checksum so a wrong result cannot pass as fast. */
#include <stdint.h>

#include "../../guests/baremetal/htif.h"

#ifndef ITERATIONS
#define ITERATIONS 1
#endif

/* Read at run time so every build has the same code and only this word differs. */
static volatile int iterations = ITERATIONS;
static uint8_t sieve_buf[8192];
static uint32_t crc_table[256];
static int32_t mat_a[16][16], mat_b[16][16], mat_c[16][16];
static uint32_t sort_buf[256];
static uint64_t hash_slots[1024];

static uint64_t sieve(void)
{
    uint64_t count = 0;
    for (int i = 0; i < 8192; i++)
        sieve_buf[i] = 0;
    for (int i = 2; i < 8192; i++) {
        if (sieve_buf[i])
            continue;
        count += (uint64_t)i;
        for (int j = i * 2; j < 8192; j += i)
            sieve_buf[j] = 1;
    }
    return count;
}

static uint32_t crc32(uint32_t seed)
{
    uint32_t crc = ~seed;
    for (int i = 0; i < 4096; i++) {
        uint8_t byte = (uint8_t)(i * 7 + seed);
        crc = crc_table[(crc ^ byte) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static int64_t matmul(int round)
{
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            mat_a[i][j] = i * 3 + j + round;
            mat_b[i][j] = j * 5 - i;
        }
    int64_t sum = 0;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            int32_t acc = 0;
            for (int k = 0; k < 16; k++)
                acc += mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = acc;
            sum += acc;
        }
    return sum;
}

static uint64_t sort(uint32_t seed)
{
    uint32_t x = seed | 1;
    for (int i = 0; i < 256; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        sort_buf[i] = x;
    }
    for (int i = 1; i < 256; i++) {
        uint32_t v = sort_buf[i];
        int j = i - 1;
        while (j >= 0 && sort_buf[j] > v) {
            sort_buf[j + 1] = sort_buf[j];
            j--;
        }
        sort_buf[j + 1] = v;
    }
    return sort_buf[0] ^ sort_buf[128] ^ sort_buf[255];
}

static uint64_t hashing(uint64_t seed)
{
    for (int i = 0; i < 1024; i++)
        hash_slots[i] = 0;
    uint64_t key = seed, found = 0;
    for (int i = 0; i < 2048; i++) {
        key = key * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t slot = (key >> 33) & 1023;
        while (hash_slots[slot] && hash_slots[slot] != key)
            slot = (slot + 1) & 1023;
        if (hash_slots[slot] == key)
            found++;
        else if (i < 900)
            hash_slots[slot] = key;
    }
    return found + hash_slots[7];
}

int main(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    uint64_t checksum = 0;
    for (int round = 0; round < iterations; round++) {
        checksum += sieve();
        checksum ^= crc32((uint32_t)round);
        checksum += (uint64_t)matmul(round);
        checksum ^= sort(2654435761u) + (uint64_t)round;
        checksum += hashing(0x9e3779b97f4a7c15ull) * (uint64_t)(round + 1);
    }
    htif_puts("cpu_mix checksum ");
    htif_put_hex(checksum);
    htif_puts("\n");
    return 0;
}
