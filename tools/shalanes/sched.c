// sched.c: real SHA-256 on one or two independent lanes with SHA-NI
// rounds, the message schedule computed in one of several ways, each
// checked first against "abc" and a plain C SHA-256 (64 blocks a lane),
// then timed on 64 blocks a lane (4 KiB, in L1) 30,000 times:
//   (default)                  on the SHA unit, sha256msg1/sha256msg2, as
//                              sha256x's assembly does
//   -DFREE_SCHED               none at all (wrong hashes, not checked):
//                              the floor for a schedule put elsewhere
//   -DSSE_SCHED -DXMM2         on the vector ports, SSE/AVX on XMM, each
//                              lane its own (s0 four words at once, s1 two
//                              at a time on words doubled into 64-bit lanes)
//   -DSSE_SCHED -DXMM2 -DHYBRID  lane a on the SHA unit, lane b on the
//                              vector ports
//   -DSSE_SCHED -DYMM_STORE    both lanes in one YMM register (lane a low,
//                              lane b high), a block's W+K to the stack,
//                              VZEROUPPER, then the rounds
//   -DSSE_SCHED                both lanes in YMM, interleaved with the
//                              rounds: the SHA instructions then run with
//                              256-bit registers' upper halves in use,
//                              which on this VM costs some 60-120 ns each
//                              (mix.c): 3.9-6.4 us a block a lane
// One lane uses the same schedule code on XMM (the YMM ones included).
//
//   gcc -O2 -msha -mavx2 [flags above] -o /tmp/sched tools/shalanes/sched.c && /tmp/sched
//
// docs/BENCHMARKS.md, "The SHA-256 message schedule off the SHA unit".
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// ---- plain C reference -------------------------------------------------
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
static __attribute__((unused)) void ref_block(uint32_t h[8], const uint8_t *p) {
	uint32_t w[64], a, b, c, d, e, f, g, hh;
	for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4*i] << 24 | p[4*i+1] << 16 | p[4*i+2] << 8 | p[4*i+3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i-15], 7) ^ ROR(w[i-15], 18) ^ (w[i-15] >> 3);
		uint32_t s1 = ROR(w[i-2], 17) ^ ROR(w[i-2], 19) ^ (w[i-2] >> 10);
		w[i] = w[i-16] + s0 + w[i-7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

// ---- SHA-NI pieces ------------------------------------------------------
// State as the instructions want it: ABEF in s0, CDGH in s1.
static void load_state(const uint32_t h[8], __m128i *s0, __m128i *s1) {
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xb1);
	__m128i u = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)), 0x1b);
	*s0 = _mm_alignr_epi8(t, u, 8);
	*s1 = _mm_blend_epi16(u, t, 0xf0);
}
static void store_state(uint32_t h[8], __m128i s0, __m128i s1) {
	__m128i t = _mm_shuffle_epi32(s0, 0x1b), u = _mm_shuffle_epi32(s1, 0xb1);
	_mm_storeu_si128((__m128i *)h, _mm_blend_epi16(t, u, 0xf0));
	_mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(u, t, 8));
}
#define FLIP _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL)
#define RNDS(S0, S1, WK) { __m128i w_ = (WK); S1 = _mm_sha256rnds2_epu32(S1, S0, w_); \
	S0 = _mm_sha256rnds2_epu32(S0, S1, _mm_shuffle_epi32(w_, 0x0e)); }

#ifdef FREE_SCHED
// No schedule at all (group g reuses g-4): wrong hashes, the rounds'
// time alone, the floor for any schedule put elsewhere. Timing only.
#define SCHED1(M, g) M[g] = M[g-4];
#define SSE_SCHED_OFF
#elif !defined(SSE_SCHED)
#define SSE_SCHED_OFF
// The schedule on the SHA unit: group g (words 4g..4g+3) from g-4..g-1.
#define SCHED1(M, g) M[g] = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(M[g-4], M[g-3]), \
	_mm_alignr_epi8(M[g-1], M[g-2], 4)), M[g-1]);
#endif
#ifdef SSE_SCHED_OFF
static void hash1(uint32_t h[8], const uint8_t *p, long n) {
	__m128i s0, s1; load_state(h, &s0, &s1);
	for (; n > 0; n--, p += 64) {
		__m128i a0 = s0, a1 = s1, M[16];
		#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4) M[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16*g)), FLIP);
			else SCHED1(M, g)
			RNDS(s0, s1, _mm_add_epi32(M[g], _mm_loadu_si128((const __m128i *)(K + 4*g))))
		}
		s0 = _mm_add_epi32(s0, a0); s1 = _mm_add_epi32(s1, a1);
	}
	store_state(h, s0, s1);
}
static void hash2(uint32_t ha[8], uint32_t hb[8], const uint8_t *pa, const uint8_t *pb, long n) {
	__m128i sa0, sa1, sb0, sb1; load_state(ha, &sa0, &sa1); load_state(hb, &sb0, &sb1);
	for (; n > 0; n--, pa += 64, pb += 64) {
		__m128i a0 = sa0, a1 = sa1, b0 = sb0, b1 = sb1, A[16], B[16];
		#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4) {
				A[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 16*g)), FLIP);
				B[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 16*g)), FLIP);
			} else { SCHED1(A, g) SCHED1(B, g) }
			__m128i k = _mm_loadu_si128((const __m128i *)(K + 4*g));
			RNDS(sa0, sa1, _mm_add_epi32(A[g], k))
			RNDS(sb0, sb1, _mm_add_epi32(B[g], k))
		}
		sa0 = _mm_add_epi32(sa0, a0); sa1 = _mm_add_epi32(sa1, a1);
		sb0 = _mm_add_epi32(sb0, b0); sb1 = _mm_add_epi32(sb1, b1);
	}
	store_state(ha, sa0, sa1); store_state(hb, sb0, sb1);
}
#else
// The schedule on the vector ports. Group g = W[t..t+3], t = 4g:
//   W[t+i] = W[t+i-16] + s0(W[t+i-15]) + W[t+i-7] + s1(W[t+i-2])
// s0 four words at once; s1 two at a time (W[t+2] needs W[t]), each on
// words copied into both halves of a 64-bit lane, so that one 64-bit
// shift right by 17 (19) leaves the word rotated by 17 (19) in the low
// half. V is the width's prefix (_mm or _mm256), T its type.
#define SIG0(V, x) V##_xor_si256_(V, V##_xor_si256_(V, V##_xor_si256_(V, V##_srli_epi32(x, 7), V##_slli_epi32(x, 25)), \
	V##_xor_si256_(V, V##_srli_epi32(x, 18), V##_slli_epi32(x, 14))), V##_srli_epi32(x, 3))
#define SIG1DUP(V, d) V##_xor_si256_(V, V##_xor_si256_(V, V##_srli_epi64(d, 17), V##_srli_epi64(d, 19)), V##_srli_epi32(d, 10))
#define _mm_xor_si256_(V, a, b) _mm_xor_si128(a, b)
#define _mm256_xor_si256_(V, a, b) _mm256_xor_si256(a, b)
#define _mm_blend32(a, b) _mm_blend_epi32(a, b, 0x0c)
#define _mm256_blend32(a, b) _mm256_blend_epi32(a, b, 0xcc)
#define SCHEDV(V, M, g) { \
	__typeof__(M[0]) x_ = V##_add_epi32(V##_add_epi32(M[g-4], SIG0(V, V##_alignr_epi8(M[g-3], M[g-4], 4))), \
		V##_alignr_epi8(M[g-1], M[g-2], 4)); \
	__typeof__(M[0]) lo_ = V##_add_epi32(x_, V##_shuffle_epi32(SIG1DUP(V, V##_shuffle_epi32(M[g-1], 0xfa)), 0x08)); \
	__typeof__(M[0]) hi_ = V##_add_epi32(x_, V##_shuffle_epi32(SIG1DUP(V, V##_shuffle_epi32(lo_, 0x50)), 0x80)); \
	M[g] = V##_blend32(lo_, hi_); }
static void hash1(uint32_t h[8], const uint8_t *p, long n) {
	__m128i s0, s1; load_state(h, &s0, &s1);
	for (; n > 0; n--, p += 64) {
		__m128i a0 = s0, a1 = s1, M[16];
		#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4) M[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16*g)), FLIP);
			else SCHEDV(_mm, M, g)
			RNDS(s0, s1, _mm_add_epi32(M[g], _mm_loadu_si128((const __m128i *)(K + 4*g))))
		}
		s0 = _mm_add_epi32(s0, a0); s1 = _mm_add_epi32(s1, a1);
	}
	store_state(h, s0, s1);
}
#ifdef XMM2
// Two lanes, each its own XMM schedule (the YMM form below, run here,
// mixes 256-bit registers with the legacy-encoded SHA instructions).
static void hash2(uint32_t ha[8], uint32_t hb[8], const uint8_t *pa, const uint8_t *pb, long n) {
	__m128i sa0, sa1, sb0, sb1; load_state(ha, &sa0, &sa1); load_state(hb, &sb0, &sb1);
	for (; n > 0; n--, pa += 64, pb += 64) {
		__m128i a0 = sa0, a1 = sa1, b0 = sb0, b1 = sb1, A[16], B[16];
		#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4) {
				A[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 16*g)), FLIP);
				B[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 16*g)), FLIP);
			} else {
#ifdef HYBRID // lane a's schedule on the SHA unit, lane b's on the vector ports
				A[g] = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(A[g-4], A[g-3]),
					_mm_alignr_epi8(A[g-1], A[g-2], 4)), A[g-1]);
#else
				SCHEDV(_mm, A, g)
#endif
				SCHEDV(_mm, B, g)
			}
			__m128i k = _mm_loadu_si128((const __m128i *)(K + 4*g));
			RNDS(sa0, sa1, _mm_add_epi32(A[g], k))
			RNDS(sb0, sb1, _mm_add_epi32(B[g], k))
		}
		sa0 = _mm_add_epi32(sa0, a0); sa1 = _mm_add_epi32(sa1, a1);
		sb0 = _mm_add_epi32(sb0, b0); sb1 = _mm_add_epi32(sb1, b1);
	}
	store_state(ha, sa0, sa1); store_state(hb, sb0, sb1);
}
#elif defined(YMM_STORE)
// Two lanes in YMM, but in two phases a block: the whole schedule (W+K
// of both lanes) to the stack, VZEROUPPER, then the rounds from memory,
// so that no SHA instruction runs with a 256-bit register's upper half
// in use (which costs about 60 ns an instruction here, tools/shalanes/mix.c).
static void hash2(uint32_t ha[8], uint32_t hb[8], const uint8_t *pa, const uint8_t *pb, long n) {
	__m128i sa0, sa1, sb0, sb1; load_state(ha, &sa0, &sa1); load_state(hb, &sb0, &sb1);
	__m256i wk[16] __attribute__((aligned(32)));
	for (; n > 0; n--, pa += 64, pb += 64) {
		__m128i a0 = sa0, a1 = sa1, b0 = sb0, b1 = sb1;
		{
			const __m256i flip = _mm256_broadcastsi128_si256(FLIP);
			__m256i M[16];
			#pragma GCC unroll 16
			for (int g = 0; g < 16; g++) {
				if (g < 4) M[g] = _mm256_shuffle_epi8(_mm256_loadu2_m128i((const __m128i *)(pb + 16*g),
					(const __m128i *)(pa + 16*g)), flip);
				else SCHEDV(_mm256, M, g)
				_mm256_store_si256(&wk[g], _mm256_add_epi32(M[g],
					_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(K + 4*g)))));
			}
			__asm__ volatile("vzeroupper" ::: "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"); // no 256-bit value lives across it; wk is read back from memory
		}
		#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			RNDS(sa0, sa1, _mm_load_si128((const __m128i *)&wk[g]))
			RNDS(sb0, sb1, _mm_load_si128((const __m128i *)&wk[g] + 1))
		}
		sa0 = _mm_add_epi32(sa0, a0); sa1 = _mm_add_epi32(sa1, a1);
		sb0 = _mm_add_epi32(sb0, b0); sb1 = _mm_add_epi32(sb1, b1);
	}
	store_state(ha, sa0, sa1); store_state(hb, sb0, sb1);
}
#else
static void hash2(uint32_t ha[8], uint32_t hb[8], const uint8_t *pa, const uint8_t *pb, long n) {
	__m128i sa0, sa1, sb0, sb1; load_state(ha, &sa0, &sa1); load_state(hb, &sb0, &sb1);
	const __m256i flip = _mm256_broadcastsi128_si256(FLIP);
	for (; n > 0; n--, pa += 64, pb += 64) {
		__m128i a0 = sa0, a1 = sa1, b0 = sb0, b1 = sb1;
		__m256i M[16];
		#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4) M[g] = _mm256_shuffle_epi8(_mm256_loadu2_m128i((const __m128i *)(pb + 16*g),
				(const __m128i *)(pa + 16*g)), flip);
			else SCHEDV(_mm256, M, g)
			__m256i wk = _mm256_add_epi32(M[g], _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(K + 4*g))));
			RNDS(sa0, sa1, _mm256_castsi256_si128(wk))
			RNDS(sb0, sb1, _mm256_extracti128_si256(wk, 1))
		}
		sa0 = _mm_add_epi32(sa0, a0); sa1 = _mm_add_epi32(sa1, a1);
		sb0 = _mm_add_epi32(sb0, b0); sb1 = _mm_add_epi32(sb1, b1);
	}
	store_state(ha, sa0, sa1); store_state(hb, sb0, sb1);
}
#endif
#endif

// ---- check and time -----------------------------------------------------
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
enum { BLOCKS = 64 }; // 4 KiB a lane: stays in L1, like a piece of lines
static uint8_t bufa[BLOCKS * 64], bufb[BLOCKS * 64];

int main(void) {
	uint32_t x = 12345;
	for (int i = 0; i < BLOCKS * 64; i++) { x = x * 1103515245 + 12345; bufa[i] = x >> 16; bufb[i] = x >> 8; }
	uint32_t h[8], ha[8], hb[8];
	memcpy(h, IV, 32); memcpy(ha, IV, 32); memcpy(hb, IV, 32);
#ifndef FREE_SCHED
	// "abc", padded: the known answer ba7816bf...f20015ad; then 64 blocks
	// a lane against the plain C code.
	uint8_t abc[64] = {'a', 'b', 'c', 0x80}; abc[63] = 24;
	uint32_t r[8], ra[8], rb[8];
	hash1(h, abc, 1);
	if (h[0] != 0xba7816bf || h[7] != 0xf20015ad) { printf("FAIL abc %08x\n", h[0]); return 1; }
	memcpy(h, IV, 32); memcpy(r, IV, 32); hash1(h, bufa, BLOCKS);
	for (int i = 0; i < BLOCKS; i++) ref_block(r, bufa + 64*i);
	if (memcmp(h, r, 32)) { printf("FAIL hash1\n"); return 1; }
	memcpy(ra, IV, 32); memcpy(rb, IV, 32);
	hash2(ha, hb, bufa, bufb, BLOCKS);
	for (int i = 0; i < BLOCKS; i++) { ref_block(ra, bufa + 64*i); ref_block(rb, bufb + 64*i); }
	if (memcmp(ha, ra, 32) || memcmp(hb, rb, 32)) { printf("FAIL hash2\n"); return 1; }
#endif
	long N = 30000; // times BLOCKS blocks a lane
	double t = now(); for (long i = 0; i < N; i++) hash1(h, bufa, BLOCKS);
	double d1 = now() - t;
	t = now(); for (long i = 0; i < N; i++) hash2(ha, hb, bufa, bufb, BLOCKS);
	double d2 = now() - t;
	printf("ok; 1 lane: %.1f ns/block/lane; 2 lanes: %.1f ns/block/lane (%08x)\n",
		d1 / N / BLOCKS * 1e9, d2 / N / BLOCKS / 2 * 1e9, h[0] ^ ha[0] ^ hb[0]);
	return 0;
}
