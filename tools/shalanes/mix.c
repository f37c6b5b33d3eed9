// mix.c: what a legacy-encoded SHA instruction (sha256rnds2 has no VEX
// form) costs when a 256-bit register's upper half is in use, against
// the same loop with XMM only and after VZEROUPPER. On this VM: about
// 1.5 ns an iteration (two sha256rnds2) clean, 110-150 ns dirty. Any
// AVX2 code that runs before sha256x's assembly must end in VZEROUPPER.
//
//   gcc -O2 -msha -mavx2 -o /tmp/mix tools/shalanes/mix.c && /tmp/mix
//
// docs/BENCHMARKS.md, "The SHA-256 message schedule off the SHA unit".
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(void){
 __m128i a=_mm_set1_epi32(1),b=_mm_set1_epi32(2),w=_mm_set1_epi32(3);
 long N=1000000; double t;
 t=now();
 for(long i=0;i<N;i++){ __asm__ volatile("vpaddd %%xmm5,%%xmm5,%%xmm5\n\tsha256rnds2 %%xmm0,%2,%0\n\tsha256rnds2 %%xmm0,%0,%1":"+x"(a),"+x"(b):"x"(w):"xmm0","xmm5"); }
 printf("xmm only: %.1f ns/iter\n",(now()-t)/N*1e9);
 t=now();
 for(long i=0;i<N;i++){ __asm__ volatile("vpaddd %%ymm5,%%ymm5,%%ymm5\n\tsha256rnds2 %%xmm0,%2,%0\n\tsha256rnds2 %%xmm0,%0,%1":"+x"(a),"+x"(b):"x"(w):"xmm0","xmm5"); }
 printf("ymm5 dirty: %.1f ns/iter\n",(now()-t)/N*1e9);
 __asm__ volatile("vzeroupper");
 t=now();
 for(long i=0;i<N;i++){ __asm__ volatile("vpaddd %%xmm5,%%xmm5,%%xmm5\n\tsha256rnds2 %%xmm0,%2,%0\n\tsha256rnds2 %%xmm0,%0,%1":"+x"(a),"+x"(b):"x"(w):"xmm0","xmm5"); }
 printf("xmm only after vzeroupper: %.1f ns/iter\n",(now()-t)/N*1e9);
 int x[4]; _mm_storeu_si128((__m128i*)x,_mm_xor_si128(a,b)); return x[0]==42;
}
