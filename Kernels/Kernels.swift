// Module for the OpenCL kernels in this folder. EmbeddedKernels.swift is generated at build time by the
// EmbedKernels plugin from every *.cl file here; HarsanyiOpenCL reads `EmbeddedKernels.all[name]`.
