/* COpenCL: the OpenCL 1.2 C API for Swift, through the ocl-icd loader. */
#ifndef COPENCL_SHIM_H
#define COPENCL_SHIM_H
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120 /* without it the headers default to 3.0 and warn on clCreateCommandQueue */
#endif
#include <CL/cl.h>
#include <CL/cl_ext.h> /* CL_PLATFORM_NOT_FOUND_KHR (-1001) */
#endif
