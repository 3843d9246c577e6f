// l3afd-probe-target: the process the uprobe of the probe-counter package watches
// (bpf/probe_counter.bpf.c). `l3afd-probe-target [N]` calls l3afd_probe_target() N times
// (default 1) and exits 0. Built into the build tree at a path fixed at configure time, which
// the BPF object's section name holds.
#include <stdlib.h>

// Not static and never inlined: the uprobe finds it by name in the symbol table, and every
// call must really happen (the empty asm with a memory clobber is a side effect the compiler
// keeps).
__attribute__((noinline)) void l3afd_probe_target(void);
__attribute__((noinline)) void l3afd_probe_target(void) {
  __asm__ volatile("" ::: "memory");
}

int main(int argc, char** argv) {
  const long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
  for (long i = 0; i < n; ++i) l3afd_probe_target();
  return 0;
}
