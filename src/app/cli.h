// The `sentinel` command line: subcommands wired to their adapters. main() only calls this,
// so tests can drive the whole command line in-process too.
#pragma once

#include <ostream>

namespace sentinel::app {

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace sentinel::app
