// l3afd entry point: Go-flag compatible command line (docs/compatibility.md §1.1).
#include <cstdio>
#include <string>
#include <string_view>

#include "daemon/app.h"

namespace {

void usage() {
  std::fputs(
      "Usage of l3afd:\n"
      "  -config string\n"
      "        config file path (default \"config/l3afd.cfg\")\n"
      "  -version\n"
      "        print the version and exit\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config = "config/l3afd.cfg";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--"))
      a.remove_prefix(2);
    else if (a.starts_with("-"))
      a.remove_prefix(1);
    else {
      std::fprintf(stderr, "l3afd: unexpected argument %s\n", argv[i]);
      usage();
      return 2;
    }
    if (a == "version") {
      std::printf("Version: %s\nImplementation: l3afd (C++20)\n", L3AFD_VERSION);
      return 0;
    }
    if (a == "h" || a == "help") {
      usage();
      return 0;
    }
    if (a == "config") {
      if (i + 1 >= argc) {
        std::fputs("l3afd: flag needs an argument: -config\n", stderr);
        usage();
        return 2;
      }
      config = argv[++i];
      continue;
    }
    if (a.starts_with("config=")) {
      config = std::string(a.substr(7));
      continue;
    }
    std::fprintf(stderr, "l3afd: flag provided but not defined: %s\n", argv[i]);
    usage();
    return 2;
  }
  return l3afd::daemon::run(config);
}
