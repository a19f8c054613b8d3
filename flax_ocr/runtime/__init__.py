"""How JAX runs here: XLA CPU flags, the compilation cache, multi-process start-up."""
