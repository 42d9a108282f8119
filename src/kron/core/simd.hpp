#pragma once
// The one way kron includes the x86 intrinsics (its own vector kernels, and Eigen through
// kron/core/eigen.hpp). GCC 12's AVX-512 headers make "undefined" vectors as `__m512d __Y = __Y;`
// and every inlined use of one warns -Wmaybe-uninitialized (GCC bug 105593, fixed in GCC 13):
// some 800 warnings about GCC's own header in a fresh build, none about kron. A diagnostic
// pragma covers the lines it encloses, so including the header here first silences exactly
// those locations, while kron's own code keeps the warning.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
