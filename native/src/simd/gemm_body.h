// The matrix product (gemm.h) of one instruction set. An isa_<name>.cpp includes this after
// simd/isa_body.h, inside its target pragma, with
//   WENGERT_GEMM_MR   rows of the micro-kernel's register tile
//   WENGERT_GEMM_NV   packets per row of the tile (NR = NV·lanes columns)
// defined, so the packing, the micro-kernel and the matrix–vector loops are compiled for it.
//
// Blocking (all from the dtype and shape, never from the thread count):
//   KC  contraction steps per packed panel: 256 (f32) / 128 (f64), i.e. 1 KiB per packed row;
//       the contraction is cut into ceil(k / KC) equal blocks (the last one shorter by < blocks);
//   MC  rows of op(A) packed at once (kGemmABytes of stack), NC columns of op(B) (kGemmBBytes);
//   a thread's unit of work (a tile) is up to kTileRowBlocks·MC rows by NC columns of one product.
// Per output element: the products of one KC block are summed in increasing p in registers, then
// added to C (stored for the first block) in block order.
#include <cstring>
#include <utility>

#include "../gemm.h"

namespace wengert {
namespace WENGERT_ISA_NS {
namespace {

#if defined(__clang__) || defined(__GNUC__)
#define WENGERT_GEMM_UNROLL _Pragma("GCC unroll 16")
#define WENGERT_GEMM_PREFETCH_W(p) __builtin_prefetch((p), 1)
#define WENGERT_GEMM_PREFETCH_R(p) __builtin_prefetch((p), 0)
#else
#define WENGERT_GEMM_PREFETCH_R(p) ((void)(p))
#define WENGERT_GEMM_UNROLL
#define WENGERT_GEMM_PREFETCH_W(p) ((void)(p))
#endif

inline constexpr uint64_t kGemmABytes = 96 * 1024;
inline constexpr uint64_t kGemmBBytes = 128 * 1024;
inline constexpr uint64_t kTileRowBlocks = 4;
static_assert(kGemmABytes + kGemmBBytes <= kGemmStackBytes);

template <class P>
struct Gemm {
  using T = typename P::Scalar;
  static constexpr int MR = WENGERT_GEMM_MR;
  static constexpr int NV = WENGERT_GEMM_NV;
  static constexpr int NR = NV * P::N;
  static constexpr uint64_t KC = 1024 / sizeof(T);
  static constexpr uint64_t MC = kGemmABytes / (KC * sizeof(T)) / MR * MR;
  static constexpr uint64_t NC = kGemmBBytes / (KC * sizeof(T)) / NR * NR;
  static_assert(MC >= MR && NC >= NR);

  // C[0..MR, 0..NR] (row stride ldc) = or += the product of a packed A panel (kc × MR values,
  // p-major) and a packed B panel (kc × NR values, p-major).
  static void micro(uint64_t kc, const T* __restrict ap, const T* __restrict bp, T* __restrict c, uint64_t ldc,
                    bool accumulate) {
    P acc[MR][NV];
WENGERT_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      // The tile's rows of C are needed after the loop: start fetching them now.
      WENGERT_GEMM_PREFETCH_W(c + i * ldc);
      WENGERT_GEMM_PREFETCH_W(c + i * ldc + (NR - 1));
WENGERT_GEMM_UNROLL
      for (int v = 0; v < NV; ++v) acc[i][v] = P::set1(T(0));
    }
    for (uint64_t p = 0; p < kc; ++p) {
      P b[NV];
WENGERT_GEMM_UNROLL
      for (int v = 0; v < NV; ++v) b[v] = P::load(bp + v * P::N);
WENGERT_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) {
        const P a = P::set1(ap[i]);
WENGERT_GEMM_UNROLL
        for (int v = 0; v < NV; ++v) acc[i][v] = madd(a, b[v], acc[i][v]);
      }
      ap += MR;
      bp += NR;
    }
WENGERT_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      T* cr = c + i * ldc;
WENGERT_GEMM_UNROLL
      for (int v = 0; v < NV; ++v) {
        T* cp = cr + v * P::N;
        store(cp, accumulate ? P::load(cp) + acc[i][v] : acc[i][v]);
      }
    }
  }

  // Packs rows [i0, i0 + mc) and steps [p0, p0 + kc) of op(A) into panels of MR rows (zero rows
  // past mc). op(A)[i][p] = a[i·k + p], or a[p·m + i] when transposed.
  static void pack_a(const GemmShape& s, const T* a, uint64_t i0, uint64_t mc, uint64_t p0, uint64_t kc, T* dst) {
    for (uint64_t ir = 0; ir < mc; ir += MR) {
      const uint64_t rows = mc - ir < uint64_t(MR) ? mc - ir : uint64_t(MR);
      T* d = dst + ir * kc;
      if (s.ta) {
        const T* src = a + p0 * s.m + i0 + ir;
        for (uint64_t p = 0; p < kc; ++p) {
          const T* sp = src + p * s.m;
          T* dp = d + p * MR;
          for (uint64_t i = 0; i < rows; ++i) dp[i] = sp[i];
          for (uint64_t i = rows; i < uint64_t(MR); ++i) dp[i] = T(0);
        }
      } else if (rows == uint64_t(MR)) {
        // MR rows read side by side, the panel written in order.
        const T* sr = a + (i0 + ir) * s.k + p0;
        for (uint64_t p = 0; p < kc; ++p) {
          T* dp = d + p * MR;
          WENGERT_GEMM_UNROLL
          for (int i = 0; i < MR; ++i) dp[i] = sr[i * s.k + p];
        }
      } else {
        for (uint64_t i = 0; i < uint64_t(MR); ++i) {
          if (i < rows) {
            const T* sr = a + (i0 + ir + i) * s.k + p0;
            for (uint64_t p = 0; p < kc; ++p) d[p * MR + i] = sr[p];
          } else {
            for (uint64_t p = 0; p < kc; ++p) d[p * MR + i] = T(0);
          }
        }
      }
    }
  }

  // Packs steps [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into panels of NR columns (zero
  // columns past nc). op(B)[p][j] = b[p·n + j], or b[j·k + p] when transposed.
  static void pack_b(const GemmShape& s, const T* b, uint64_t p0, uint64_t kc, uint64_t j0, uint64_t nc, T* dst) {
    if (s.tb) {
      for (uint64_t jr = 0; jr < nc; jr += NR) {
        const uint64_t cols = nc - jr < uint64_t(NR) ? nc - jr : uint64_t(NR);
        T* d = dst + jr * kc;
        for (uint64_t j = 0; j < uint64_t(NR); ++j) {
          if (j < cols) {
            const T* sc = b + (j0 + jr + j) * s.k + p0;
            for (uint64_t p = 0; p < kc; ++p) d[p * NR + j] = sc[p];
          } else {
            for (uint64_t p = 0; p < kc; ++p) d[p * NR + j] = T(0);
          }
        }
      }
      return;
    }
    // Not transposed: row p of the block is nc contiguous values. Each row is read once, front to
    // back, and dealt out to the panels: a panel at a time would walk all kc rows (n apart) once
    // per panel, which the hardware prefetchers follow poorly. The row kPrefetchRows ahead is
    // requested explicitly, one request per cache line.
    constexpr uint64_t kPrefetchRows = 8, kLine = 64 / sizeof(T);
    const uint64_t full = nc / NR * NR;
    for (uint64_t p = 0; p < kc; ++p) {
      const T* sp = b + (p0 + p) * s.n + j0;
      if (p + kPrefetchRows < kc) {
        for (uint64_t j = 0; j < nc; j += kLine) WENGERT_GEMM_PREFETCH_R(sp + kPrefetchRows * s.n + j);
      }
      for (uint64_t jr = 0; jr < full; jr += NR) std::memcpy(dst + jr * kc + p * NR, sp + jr, NR * sizeof(T));
      if (full < nc) {
        T* dp = dst + full * kc + p * NR;
        for (uint64_t j = 0; j < nc - full; ++j) dp[j] = sp[full + j];
        for (uint64_t j = nc - full; j < uint64_t(NR); ++j) dp[j] = T(0);
      }
    }
  }

  // One tile: rows [i0, i1) and columns [j0, j1) of the product with A, B, C already offset to it.
  // With `ct` (C transposed), element (i, j) of the product is stored at c[j·m + i] instead of
  // c[i·n + j]: run() computes a narrow C as Cᵀ = op(B)ᵀ·op(A)ᵀ that way.
  static void tile(const GemmShape& s, const T* a, const T* b, T* c, uint64_t i0, uint64_t i1, uint64_t j0,
                   uint64_t j1, bool ct) {
    const uint64_t ci = ct ? 1 : s.n, cj = ct ? s.m : 1;  // strides of C's rows and columns
    if (s.k == 0) {
      for (uint64_t i = i0; i < i1; ++i) {
        for (uint64_t j = j0; j < j1; ++j) c[i * ci + j * cj] = T(0);
      }
      return;
    }
    alignas(64) T abuf[MC * KC];
    alignas(64) T bbuf[KC * NC];
    const uint64_t kblocks = (s.k + KC - 1) / KC;
    const uint64_t kstep = (s.k + kblocks - 1) / kblocks;
    const uint64_t nc = j1 - j0;
    for (uint64_t p0 = 0; p0 < s.k; p0 += kstep) {
      const uint64_t kc = s.k - p0 < kstep ? s.k - p0 : kstep;
      const bool accumulate = p0 != 0;
      pack_b(s, b, p0, kc, j0, nc, bbuf);
      for (uint64_t ic = i0; ic < i1; ic += MC) {
        const uint64_t mc = i1 - ic < MC ? i1 - ic : MC;
        pack_a(s, a, ic, mc, p0, kc, abuf);
        for (uint64_t jr = 0; jr < nc; jr += NR) {
          const uint64_t cols = nc - jr < uint64_t(NR) ? nc - jr : uint64_t(NR);
          for (uint64_t ir = 0; ir < mc; ir += MR) {
            const uint64_t rows = mc - ir < uint64_t(MR) ? mc - ir : uint64_t(MR);
            T* cp = c + (ic + ir) * ci + (j0 + jr) * cj;
            const T* ap = abuf + ir * kc;
            const T* bp = bbuf + jr * kc;
            if (!ct && rows == uint64_t(MR) && cols == uint64_t(NR)) {
              micro(kc, ap, bp, cp, s.n, accumulate);
            } else if (!ct) {
              // An edge tile: the full register tile into a buffer, then its valid part, with the
              // same arithmetic as a full tile (C = block sum, or C + block sum).
              alignas(64) T t[MR * NR];
              micro(kc, ap, bp, t, NR, false);
              for (uint64_t i = 0; i < rows; ++i) {
                for (uint64_t j = 0; j < cols; ++j) {
                  cp[i * ci + j] = accumulate ? cp[i * ci + j] + t[i * NR + j] : t[i * NR + j];
                }
              }
            } else {
              // The same through the buffer, stored transposed (C's rows are the tile's columns).
              alignas(64) T t[MR * NR];
              micro(kc, ap, bp, t, NR, false);
              for (uint64_t j = 0; j < cols; ++j) {
                T* cr = cp + j * cj;
                for (uint64_t i = 0; i < rows; ++i) cr[i] = accumulate ? cr[i] + t[i * NR + j] : t[i * NR + j];
              }
            }
          }
        }
      }
    }
  }

  // Whether to compute C [m, n] as Cᵀ = op(B)ᵀ·op(A)ᵀ: for narrow products (n < NR), when the
  // register tiles then cover less padding (e.g. AVX2 f32, n = 10: 10 of 16 tile columns used,
  // against 10 of 12 tile rows). Every element's sum is formed the same way in both orientations,
  // so the choice changes the speed only, never a bit of the result.
  static bool transpose_narrow(const GemmShape& s) {
    if (s.n >= uint64_t(NR) || s.k == 0) return false;
    const auto up = [](uint64_t x, uint64_t to) { return (x + to - 1) / to * to; };
    return up(s.n, MR) * up(s.m, NR) < up(s.m, MR) * up(s.n, NR);
  }

  // ---- matrix–vector ----

  // y[i] = Σ_p M[i·ld + p]·x[p] for i in [r0, r1): dot products of contiguous rows, four rows at
  // a time sharing the loads of x. Per row: two packet accumulators (even and odd packets), added,
  // their lanes summed in lane order, then the scalar tail in increasing p.
  static void dot_rows(const T* mat, uint64_t ld, uint64_t len, const T* x, T* y, uint64_t r0, uint64_t r1) {
    constexpr uint64_t N = P::N;
    const uint64_t lv = len / N * N;
    const auto finish = [&](P acc, const T* row) {
      alignas(64) T lanes[N];
      store(lanes, acc);
      T s = lanes[0];
      for (uint64_t l = 1; l < N; ++l) s += lanes[l];
      for (uint64_t p = lv; p < len; ++p) {
        const T prod = row[p] * x[p];
        s += prod;
      }
      return s;
    };
    uint64_t i = r0;
    for (; i + 4 <= r1; i += 4) {
      const T* m0 = mat + i * ld;
      const T* m1 = m0 + ld;
      const T* m2 = m1 + ld;
      const T* m3 = m2 + ld;
      P a0 = P::set1(T(0)), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      uint64_t p = 0;
      for (; p + 2 * N <= lv; p += 2 * N) {
        const P x0 = P::load(x + p), x1 = P::load(x + p + N);
        a0 = madd(P::load(m0 + p), x0, a0);
        a1 = madd(P::load(m1 + p), x0, a1);
        a2 = madd(P::load(m2 + p), x0, a2);
        a3 = madd(P::load(m3 + p), x0, a3);
        b0 = madd(P::load(m0 + p + N), x1, b0);
        b1 = madd(P::load(m1 + p + N), x1, b1);
        b2 = madd(P::load(m2 + p + N), x1, b2);
        b3 = madd(P::load(m3 + p + N), x1, b3);
      }
      if (p < lv) {
        const P x0 = P::load(x + p);
        a0 = madd(P::load(m0 + p), x0, a0);
        a1 = madd(P::load(m1 + p), x0, a1);
        a2 = madd(P::load(m2 + p), x0, a2);
        a3 = madd(P::load(m3 + p), x0, a3);
      }
      y[i] = finish(a0 + b0, m0);
      y[i + 1] = finish(a1 + b1, m1);
      y[i + 2] = finish(a2 + b2, m2);
      y[i + 3] = finish(a3 + b3, m3);
    }
    for (; i < r1; ++i) {
      const T* m0 = mat + i * ld;
      P a0 = P::set1(T(0)), b0 = a0;
      uint64_t p = 0;
      for (; p + 2 * N <= lv; p += 2 * N) {
        a0 = madd(P::load(m0 + p), P::load(x + p), a0);
        b0 = madd(P::load(m0 + p + N), P::load(x + p + N), b0);
      }
      if (p < lv) a0 = madd(P::load(m0 + p), P::load(x + p), a0);
      y[i] = finish(a0 + b0, m0);
    }
  }

  // y[j] (+)= Σ_{p in [p0, p1)} x[p]·M[p·ld + j] for j in [c0, c1): rows of M scaled into y, four
  // rows per pass over y; each element's terms are added in increasing p. y is overwritten
  // (not accumulated) when `accumulate` is false.
  static void axpy_rows(const T* mat, uint64_t ld, const T* x, T* y, uint64_t p0, uint64_t p1, uint64_t c0,
                        uint64_t c1, bool accumulate) {
    constexpr uint64_t N = P::N;
    if (!accumulate) {
      for (uint64_t j = c0; j < c1; ++j) y[j] = T(0);
    }
    const uint64_t cv = c0 + (c1 - c0) / N * N;
    uint64_t p = p0;
    for (; p + 4 <= p1; p += 4) {
      const T* m0 = mat + p * ld;
      const T* m1 = m0 + ld;
      const T* m2 = m1 + ld;
      const T* m3 = m2 + ld;
      const P x0 = P::set1(x[p]), x1 = P::set1(x[p + 1]), x2 = P::set1(x[p + 2]), x3 = P::set1(x[p + 3]);
      for (uint64_t j = c0; j < cv; j += N) {
        P acc = P::load(y + j);
        acc = madd(x0, P::load(m0 + j), acc);
        acc = madd(x1, P::load(m1 + j), acc);
        acc = madd(x2, P::load(m2 + j), acc);
        acc = madd(x3, P::load(m3 + j), acc);
        store(y + j, acc);
      }
      for (uint64_t j = cv; j < c1; ++j) {
        T acc = y[j];
        for (int r = 0; r < 4; ++r) {
          const T prod = x[p + r] * mat[(p + r) * ld + j];
          acc += prod;
        }
        y[j] = acc;
      }
    }
    for (; p < p1; ++p) {
      const T* m0 = mat + p * ld;
      const P x0 = P::set1(x[p]);
      for (uint64_t j = c0; j < cv; j += N) store(y + j, madd(x0, P::load(m0 + j), P::load(y + j)));
      for (uint64_t j = cv; j < c1; ++j) {
        const T prod = x[p] * m0[j];
        y[j] += prod;
      }
    }
  }

  // y = Mᵀ·x for M [rows, cols] (row stride ld), x of length rows, y of length cols. Few columns:
  // the rows are cut into fixed blocks whose partial sums (on the stack) are added in block order;
  // many columns: threads take blocks of columns, each summing all rows in order.
  static void gemv_t(const T* mat, uint64_t rows, uint64_t cols, uint64_t ld, const T* x, T* y, const Parallel* par) {
    constexpr uint64_t kMaxParts = 16, kPartCols = 1024, kRowsPerPart = 2048;
    constexpr uint64_t kColBlock = 256;
    if (cols <= kPartCols) {
      const uint64_t parts = rows / kRowsPerPart < 1 ? 1 : (rows / kRowsPerPart > kMaxParts ? kMaxParts : rows / kRowsPerPart);
      if (parts == 1) {
        axpy_rows(mat, ld, x, y, 0, rows, 0, cols, false);
        return;
      }
      alignas(64) T partial[(kMaxParts - 1) * kPartCols];
      const uint64_t step = (rows + parts - 1) / parts;
      parallel_for(par, parts, [&](uint64_t q) {
        T* dst = q == 0 ? y : partial + (q - 1) * cols;
        const uint64_t p0 = q * step, p1 = rows < p0 + step ? rows : p0 + step;
        axpy_rows(mat, ld, x, dst, p0 < rows ? p0 : rows, p1, 0, cols, false);
      });
      for (uint64_t q = 1; q < parts; ++q) {
        const T* src = partial + (q - 1) * cols;
        for (uint64_t j = 0; j < cols; ++j) y[j] += src[j];
      }
      return;
    }
    const uint64_t blocks = (cols + kColBlock - 1) / kColBlock;
    parallel_for(par, blocks, [&](uint64_t q) {
      const uint64_t c0 = q * kColBlock, c1 = cols < c0 + kColBlock ? cols : c0 + kColBlock;
      axpy_rows(mat, ld, x, y, 0, rows, c0, c1, false);
    });
  }

  // y = M·x for M [rows, len] (row stride ld): threads take fixed blocks of rows.
  static void gemv_n(const T* mat, uint64_t rows, uint64_t len, uint64_t ld, const T* x, T* y, const Parallel* par) {
    const uint64_t per = len == 0 ? rows : ((65536 / len) + 4) / 4 * 4;
    const uint64_t blocks = rows == 0 ? 0 : (rows + per - 1) / per;
    parallel_for(par, blocks, [&](uint64_t q) {
      const uint64_t r0 = q * per, r1 = rows < r0 + per ? rows : r0 + per;
      dot_rows(mat, ld, len, x, y, r0, r1);
    });
  }

  static void run(const GemmShape& s, const T* a, const T* b, T* c, const Parallel* par) {
    if (s.batch == 0 || s.m == 0 || s.n == 0) return;
    const uint64_t sa = s.m * s.k, sb = s.k * s.n, sc = s.m * s.n;
    if (s.n == 1 || s.m == 1) {
      // A matrix–vector product: the vector operand (op(B) when n = 1, op(A) when m = 1) is
      // contiguous whether stored transposed or not.
      for (uint64_t q = 0; q < s.batch; ++q) {
        const T* aq = a + q * sa;
        const T* bq = b + q * sb;
        T* cq = c + q * sc;
        if (s.k == 0) {
          for (uint64_t e = 0; e < sc; ++e) cq[e] = T(0);
        } else if (s.n == 1) {
          if (s.ta) {
            gemv_t(aq, s.k, s.m, s.m, bq, cq, par);
          } else {
            gemv_n(aq, s.m, s.k, s.k, bq, cq, par);
          }
        } else if (s.tb) {
          gemv_n(bq, s.n, s.k, s.k, aq, cq, par);
        } else {
          gemv_t(bq, s.k, s.n, s.n, aq, cq, par);
        }
      }
      return;
    }
    // A narrow product runs as its transpose: op(B)ᵀ is op(A') with A' = B read the other way,
    // op(A)ᵀ likewise, and C is written transposed; the batch strides stay those of B, A and C.
    const bool ct = transpose_narrow(s);
    GemmShape r = s;
    if (ct) {
      r.m = s.n, r.n = s.m, r.ta = !s.tb, r.tb = !s.ta;
      std::swap(a, b);
    }
    const uint64_t ra = ct ? sb : sa, rb = ct ? sa : sb;
    const uint64_t mt = MC * kTileRowBlocks;
    const uint64_t tm = (r.m + mt - 1) / mt, tn = (r.n + NC - 1) / NC;
    parallel_for(par, r.batch * tm * tn, [&](uint64_t t) {
      const uint64_t q = t / (tm * tn), rest = t % (tm * tn);
      const uint64_t i0 = rest / tn * mt, j0 = rest % tn * NC;
      const uint64_t i1 = r.m < i0 + mt ? r.m : i0 + mt, j1 = r.n < j0 + NC ? r.n : j0 + NC;
      tile(r, a + q * ra, b + q * rb, c + q * sc, i0, i1, j0, j1, ct);
    });
  }
};

}  // namespace

void gemm_f32(const GemmShape& s, const float* a, const float* b, float* c, const Parallel* parallel) {
  Gemm<WENGERT_PACKET_F32>::run(s, a, b, c, parallel);
}

void gemm_f64(const GemmShape& s, const double* a, const double* b, double* c, const Parallel* parallel) {
  Gemm<WENGERT_PACKET_F64>::run(s, a, b, c, parallel);
}

}  // namespace WENGERT_ISA_NS
}  // namespace wengert

#undef WENGERT_GEMM_UNROLL
#undef WENGERT_GEMM_PREFETCH_W
#undef WENGERT_GEMM_PREFETCH_R
