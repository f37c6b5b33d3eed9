// lanes.c: how many SHA-256 rounds a core's SHA unit runs, one to four
// independent lanes, with the message schedule on the SHA unit
// (sha256msg1/sha256msg2, as sha256x's assembly does) or, with
// -DNO_MSG, left out (an integer add in its place), which shows what the
// rounds alone would cost if the schedule ran on other ports, or, with
// -DSSE_SCHED, computed with SSE shifts, xors and adds on the vector ports.
// Nothing here is correct SHA-256: it times the instructions' chains.
//
//   gcc -O2 -msha -msse4.1 -o /tmp/lanes tools/shalanes/lanes.c && /tmp/lanes
//   gcc -O2 -msha -msse4.1 -DNO_MSG -o /tmp/lanes-nomsg tools/shalanes/lanes.c && /tmp/lanes-nomsg
//   gcc -O2 -msha -msse4.1 -DSSE_SCHED -o /tmp/lanes-sse tools/shalanes/lanes.c && /tmp/lanes-sse
//
// docs/BENCHMARKS.md, "Audit speed, round 6, end of the round".
#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>
#if defined(SSE_SCHED)
// The real schedule's recurrence on the integer vector ports (SSE):
// W[t+i] = W[t+i-16] + s0(W[t+i-15]) + W[t+i-7] + s1(W[t+i-2]); s0 on
// four words, s1 two at a time on words doubled into 64-bit lanes (a
// 64-bit shift right by 17 or 19 leaves the 32-bit rotation in the low
// half). tools/shalanes/sched.c has the same, checked against SHA-256.
#define SIG0(x) _mm_xor_si128(_mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(x,7),_mm_slli_epi32(x,25)),_mm_xor_si128(_mm_srli_epi32(x,18),_mm_slli_epi32(x,14))),_mm_srli_epi32(x,3))
#define SIG1DUP(d) _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(d,17),_mm_srli_epi64(d,19)),_mm_srli_epi32(d,10))
#define SCHEDULE(i) { __m128i x_=_mm_add_epi32(_mm_add_epi32(m0_##i,SIG0(_mm_alignr_epi8(m1_##i,m0_##i,4))),_mm_alignr_epi8(m3_##i,m2_##i,4)); \
  __m128i lo_=_mm_add_epi32(x_,_mm_shuffle_epi32(SIG1DUP(_mm_shuffle_epi32(m3_##i,0xfa)),0x08)); \
  __m128i hi_=_mm_add_epi32(x_,_mm_shuffle_epi32(SIG1DUP(_mm_shuffle_epi32(lo_,0x50)),0x80)); \
  m0_##i=_mm_blend_epi16(lo_,hi_,0xf0); }
#elif defined(NO_MSG)
#define SCHEDULE(i) m0_##i=_mm_add_epi32(m0_##i,_mm_alignr_epi8(m3_##i,m2_##i,4));
#else
#define SCHEDULE(i) m0_##i=_mm_sha256msg1_epu32(m0_##i,m1_##i); m0_##i=_mm_add_epi32(m0_##i,_mm_alignr_epi8(m3_##i,m2_##i,4)); m0_##i=_mm_sha256msg2_epu32(m0_##i,m3_##i);
#endif
// A "block" is 16 steps of 4 rounds (32 sha256rnds2) and their schedule.
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
#define LANE_DECL(i) __m128i s0_##i=_mm_set1_epi32(i+1), s1_##i=_mm_set1_epi32(i+7), m0_##i=_mm_set1_epi32(i*3+1),m1_##i=_mm_set1_epi32(i*5+2),m2_##i=_mm_set1_epi32(3),m3_##i=_mm_set1_epi32(4);
#define ROUND4(i) { __m128i w=_mm_add_epi32(m0_##i,k); s1_##i=_mm_sha256rnds2_epu32(s1_##i,s0_##i,w); w=_mm_shuffle_epi32(w,0x0e); s0_##i=_mm_sha256rnds2_epu32(s0_##i,s1_##i,w); \
  SCHEDULE(i) \
  __m128i t=m0_##i; m0_##i=m1_##i; m1_##i=m2_##i; m2_##i=m3_##i; m3_##i=t; }
#define OUT(i) acc=_mm_xor_si128(acc,_mm_xor_si128(s0_##i,s1_##i));
int main(){ long N=2000000; __m128i k=_mm_set1_epi32(0x428a2f98), acc=_mm_setzero_si128();
 {LANE_DECL(0) double t=now(); for(long n=0;n<N;n++){ for(int r=0;r<16;r++){ROUND4(0)} } double d=now()-t; OUT(0) printf("1 lane: %.1f ns/block/lane\n", d/N*1e9);}
 {LANE_DECL(0) LANE_DECL(1) double t=now(); for(long n=0;n<N;n++){ for(int r=0;r<16;r++){ROUND4(0) ROUND4(1)} } double d=now()-t; OUT(0) OUT(1) printf("2 lanes: %.1f ns/block/lane\n", d/N/2*1e9);}
 {LANE_DECL(0) LANE_DECL(1) LANE_DECL(2) double t=now(); for(long n=0;n<N;n++){ for(int r=0;r<16;r++){ROUND4(0) ROUND4(1) ROUND4(2)} } double d=now()-t; OUT(0) OUT(1) OUT(2) printf("3 lanes: %.1f ns/block/lane\n", d/N/3*1e9);}
 {LANE_DECL(0) LANE_DECL(1) LANE_DECL(2) LANE_DECL(3) double t=now(); for(long n=0;n<N;n++){ for(int r=0;r<16;r++){ROUND4(0) ROUND4(1) ROUND4(2) ROUND4(3)} } double d=now()-t; OUT(0) OUT(1) OUT(2) OUT(3) printf("4 lanes: %.1f ns/block/lane\n", d/N/4*1e9);}
 int x[4]; _mm_storeu_si128((__m128i*)x,acc); printf("%d\n",x[0]); }
