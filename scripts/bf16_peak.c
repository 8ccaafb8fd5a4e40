// Register-only peak throughput of the two BF16 inner-loop instructions on this CPU: vfmadd231ps (F32 FMA, what
// msts's F32 compute runs after widening BF16 weights) and vdpbf16ps (AVX512_BF16 dot product of BF16 pairs, what
// `--compute bf16` runs). 12 independent accumulators, no memory operands; 200 interleaved bursts, best of each.
// The ratio bounds what any BF16 kernel can gain over the F32 one from arithmetic alone on this CPU.
// Build and run:  gcc -O2 -march=native -mavx512bf16 -o /tmp/bf16_peak scripts/bf16_peak.c && taskset -c 0 /tmp/bf16_peak
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define N 24000000L
// 12 independent accumulators, register-only: peak throughput of each instruction
__attribute__((noinline)) double fma_peak(float*o){
  __m512 a[12]; __m512 x=_mm512_set1_ps(1.0001f), y=_mm512_set1_ps(0.9999f);
  for(int i=0;i<12;i++) a[i]=_mm512_set1_ps(i);
  double t=now();
  for(long n=0;n<N/12;n++){
#pragma GCC unroll 12
    for(int i=0;i<12;i++) a[i]=_mm512_fmadd_ps(x,y,a[i]);
    __asm__ volatile("" : "+v"(a[0]),"+v"(a[1]),"+v"(a[2]),"+v"(a[3]),"+v"(a[4]),"+v"(a[5]),"+v"(a[6]),"+v"(a[7]),"+v"(a[8]),"+v"(a[9]),"+v"(a[10]),"+v"(a[11]));
  }
  t=now()-t; __m512 s=a[0]; for(int i=1;i<12;i++) s=_mm512_add_ps(s,a[i]); _mm512_storeu_ps(o,s);
  return (double)(N/12*12)*16/t; // MACs per second
}
__attribute__((noinline)) double dp_peak(float*o){
  __m512 a[12]; __m512bh x=(__m512bh)_mm512_set1_epi16(0x3f80), y=(__m512bh)_mm512_set1_epi16(0x3f80);
  for(int i=0;i<12;i++) a[i]=_mm512_set1_ps(i);
  double t=now();
  for(long n=0;n<N/12;n++){
#pragma GCC unroll 12
    for(int i=0;i<12;i++) a[i]=_mm512_dpbf16_ps(a[i],x,y);
    __asm__ volatile("" : "+v"(a[0]),"+v"(a[1]),"+v"(a[2]),"+v"(a[3]),"+v"(a[4]),"+v"(a[5]),"+v"(a[6]),"+v"(a[7]),"+v"(a[8]),"+v"(a[9]),"+v"(a[10]),"+v"(a[11]));
  }
  t=now()-t; __m512 s=a[0]; for(int i=1;i<12;i++) s=_mm512_add_ps(s,a[i]); _mm512_storeu_ps(o,s);
  return (double)(N/12*12)*32/t; // MACs per second (32 bf16 pairs -> 16 lanes x 2)
}
int main(){ float o[16]; double bf=0,bd=0; for(int r=0;r<200;r++){ double f=fma_peak(o), d=dp_peak(o); if(f>bf)bf=f; if(d>bd)bd=d;} printf("best of 200 interleaved bursts: fma %.1f GMAC/s  vdpbf16ps %.1f GMAC/s  ratio %.2f\n",bf/1e9,bd/1e9,bd/bf); return (int)o[0]&0; }
