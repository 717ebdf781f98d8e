/* COIN-OR CLP's C interface (Debian: coinor-libclp-dev). The header lives under /usr/include/coin. */
#ifndef CCLP_SHIM_H
#define CCLP_SHIM_H
#include <coin/Clp_C_Interface.h>
#endif
