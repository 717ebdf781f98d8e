/* CBLAS: OpenBLAS's C interface, for the CPU path's matrix products. */
#include <cblas.h>
