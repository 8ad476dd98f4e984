// `sentinel classify`: legal control status of structures, with explanations.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/classify/classifier.h"
#include "core/classify/resolve.h"

namespace sentinel::app {

struct ClassifyCommandOptions {
  std::vector<std::string> inputs;  // structures, names, files; none or "-" = stdin
  std::string format = "text";      // text | json
  std::vector<std::string> jurisdictions;
  std::string as_of;                 // YYYY-MM-DD; empty = today
  std::string svg;                   // draw each structure here ("x.svg" -> x-2.svg ... for more)
  std::vector<std::string> options;  // rule interpretation: name=value
  double analogue_threshold = 0.45;
  int threads = 0;
  std::string data_dir;     // empty = the shipped data
  bool list_rules = false;  // print the class rules and their interpretation options instead
  bool progress = true;     // periodic counts on stderr for long batches
};

// The knowledge base and rules under a data directory, loaded and compiled once.
Result<std::shared_ptr<const classify::Classifier>> LoadClassifier(const std::string& data_dir);

// One record's result as the JSON object of the output contract (one line, no newline).
std::string ClassificationJson(const std::string& input,
                               const Result<classify::ResolvedStructure>& structure,
                               const classify::Classification* result);

int RunClassify(const ClassifyCommandOptions& options, std::istream& in, std::ostream& out,
                std::ostream& err);

}  // namespace sentinel::app
