#include "app/classify_command.h"

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "adapters/kb_files/kb_files.h"
#include "app/json_writer.h"
#include "app/library_loader.h"
#include "app/progress.h"
#include "app/structure_input.h"
#include "core/chem/depict.h"
#include "core/chem/molecule.h"

namespace sentinel::app {
namespace {

void WriteFinding(const classify::Finding& f, JsonWriter* w) {
  w->BeginObject();
  w->Key("status").String(f.status);
  w->Key("schedule").StringOrNull(f.schedule);
  w->Key("basis").StringOrNull(f.basis);
  w->Key("rule").StringOrNull(f.rule);
  w->Key("explanation").String(f.explanation);
  if (!f.instrument.empty()) w->Key("instrument").String(f.instrument);
  if (!f.in_force.empty()) w->Key("in_force").String(f.in_force);
  if (!f.citation.empty()) w->Key("citation").String(f.citation);
  if (!f.modifications.empty()) {
    w->Key("modifications").BeginArray();
    for (const auto& m : f.modifications) {
      w->BeginObject().Key("part").String(m.part).Key("change").String(m.description).EndObject();
    }
    w->EndArray();
  }
  if (!f.matched_atoms.empty()) {
    w->Key("matched_atoms").BeginArray();
    for (int a : f.matched_atoms) w->Int(a);
    w->EndArray();
  }
  const auto strings = [w](const char* key, const std::vector<std::string>& items) {
    if (items.empty()) return;
    w->Key(key).BeginArray();
    for (const auto& item : items) w->String(item);
    w->EndArray();
  };
  strings("exclusions_checked", f.exclusions_checked);
  if (!f.interpretation.empty()) {
    w->Key("interpretation").BeginObject();
    for (const auto& [name, value] : f.interpretation) w->Key(name).String(value);
    w->EndObject();
  }
  strings("notes", f.notes);
  w->EndObject();
}

std::string Text(const std::string& input, const Result<classify::ResolvedStructure>& structure,
                 const classify::Classification* result) {
  std::string out = "input: " + input + "\n";
  if (!structure.ok()) return out + "  error: " + structure.status().message() + "\n";
  out += "  structure: " + structure->smiles;
  if (result->substance) out += "  (" + result->substance->name + ")";
  out += "\n";
  for (const auto& step : structure->standardisation) out += "  standardised: " + step + "\n";
  for (const auto& [j, f] : result->jurisdictions) {
    out += "  " + j + ": " + f.status;
    if (!f.schedule.empty()) out += ", schedule " + f.schedule;
    if (!f.basis.empty()) out += " (" + f.basis + (f.basis == "class" ? ": " + f.rule : "") + ")";
    out += "\n      " + f.explanation + "\n";
    for (const auto& [name, value] : f.interpretation) {
      out += fmt::format("      interpretation {}={}\n", name, value);
    }
    for (const auto& note : f.notes) out += "      note: " + note + "\n";
  }
  if (!result->analogue_of.empty()) {
    out += "  WARNING (not a legal finding): structurally similar to controlled ";
    for (std::size_t i = 0; i < result->analogue_of.size(); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.2f", result->analogue_of[i].similarity);
      out += (i ? ", " : "") + result->analogue_of[i].substance->name + " (" + buf + ")";
    }
    out += "\n";
  }
  return out;
}

std::string SvgPath(const std::string& pattern, std::size_t index, std::size_t count) {
  if (count <= 1) return pattern;
  const auto dot = pattern.rfind('.');
  const std::string stem = dot == std::string::npos ? pattern : pattern.substr(0, dot);
  const std::string ext = dot == std::string::npos ? ".svg" : pattern.substr(dot);
  return stem + "-" + std::to_string(index + 1) + ext;
}

}  // namespace

Result<std::shared_ptr<const classify::Classifier>> LoadClassifier(const std::string& data_dir) {
  chem::SilenceRdkitLogs();
  auto sources = kb_files::ReadDataDir(data_dir);
  if (!sources.ok()) return sources.status();
  auto kb = classify::KnowledgeBase::Build(sources->rows, sources->exceptions);
  if (!kb.ok()) return kb.status();
  auto rules = classify::RuleSet::Compile(sources->vocabulary, sources->rules);
  if (!rules.ok()) return rules.status();
  return std::shared_ptr<const classify::Classifier>(std::make_shared<classify::Classifier>(
      std::make_shared<const classify::KnowledgeBase>(std::move(kb).value()),
      std::make_shared<const classify::RuleSet>(std::move(rules).value())));
}

std::string ClassificationJson(const std::string& input,
                               const Result<classify::ResolvedStructure>& structure,
                               const classify::Classification* result) {
  JsonWriter w(2048);  // a line with four jurisdictions runs to 1-2 KB
  w.BeginObject().Key("input").String(input);
  if (!structure.ok()) {
    w.Key("smiles").Null().Key("name").Null();
    w.Key("jurisdictions").BeginObject().EndObject();
    w.Key("analogue_of").BeginArray().EndArray();
    w.Key("error").String(structure.status().message());
    return w.EndObject().Take();
  }
  w.Key("smiles").String(structure->smiles);
  w.Key("name");
  if (result->substance) {
    w.String(result->substance->name);
  } else {
    w.Null();
  }
  w.Key("jurisdictions").BeginObject();
  for (const auto& [name, f] : result->jurisdictions) {
    w.Key(name);
    WriteFinding(f, &w);
  }
  w.EndObject();
  w.Key("analogue_of").BeginArray();
  for (const auto& n : result->analogue_of) {
    w.BeginObject().Key("name").String(n.substance->name);
    w.Key("smiles").String(n.substance->smiles);
    w.Key("similarity").Double(std::round(n.similarity * 1000) / 1000).EndObject();
  }
  w.EndArray();
  w.Key("error").Null();
  w.Key("read_as").String(structure->read_as);
  if (!structure->standardisation.empty()) {
    w.Key("standardisation").BeginArray();
    for (const auto& step : structure->standardisation) w.String(step);
    w.EndArray();
  }
  return w.EndObject().Take();
}

int RunClassify(const ClassifyCommandOptions& options, std::istream& in, std::ostream& out,
                std::ostream& err) {
  classify::ClassifyOptions copts;
  copts.jurisdictions = options.jurisdictions;
  copts.analogue_threshold = options.analogue_threshold;
  if (!options.as_of.empty()) {
    auto date = classify::ParseDate(options.as_of);
    if (!date.ok()) {
      err << "sentinel classify: --as-of: " << date.status().message() << "\n";
      return 2;
    }
    copts.as_of = *date;
  }
  for (const auto& o : options.options) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      err << "sentinel classify: --option '" << o << "': want NAME=VALUE\n";
      return 2;
    }
    copts.interpretation[o.substr(0, eq)] = o.substr(eq + 1);
  }
  auto loaded = LoadClassifier(options.data_dir.empty() ? ResolveDataDir() : options.data_dir);
  if (!loaded.ok()) {
    err << "sentinel classify: cannot load the knowledge base: " << loaded.status().message()
        << "\n";
    return 2;
  }
  const classify::Classifier& classifier = **loaded;
  if (options.list_rules) {
    const auto& rules = classifier.rules();
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const auto& r = rules.spec(i);
      out << r.id << "  [" << r.jurisdiction << ", " << r.status << ", schedule " << r.schedule
          << "; in force " << r.in_force << (r.repealed.empty() ? "" : ", repealed " + r.repealed)
          << "]\n  " << r.title << "\n  " << r.instrument << "\n";
      for (const auto& o : r.options) {
        out << "  option " << o.name << " (default " << o.default_value << "): " << o.question
            << "\n";
        for (const auto& [value, meaning] : o.meanings) {
          out << "      " << value << ": " << meaning << "\n";
        }
      }
      out << "\n";
    }
    return 0;
  }
  if (Status s = classifier.rules().CheckOptions(copts.interpretation); !s.ok()) {
    err << "sentinel classify: --option: " << s.message() << "\n";
    return 2;
  }
  for (const auto& j : copts.jurisdictions) {
    const auto& known = classifier.jurisdictions();
    if (std::find(known.begin(), known.end(), j) == known.end()) {
      err << "sentinel classify: --jurisdiction " << j << ": not one of the knowledge base's (";
      for (std::size_t i = 0; i < known.size(); ++i) err << (i ? ", " : "") << known[i];
      err << ")\n";
      return 2;
    }
  }
  StructureReader reader(options.inputs, in);
  if (Status s = reader.CheckFiles(); !s.ok()) {
    err << "sentinel classify: " << s.message() << "\n";
    return 2;
  }
  // Records are classified a chunk at a time, so a batch of any length runs in bounded memory.
  constexpr std::size_t kChunk = 4096;
  std::vector<StructureRecord> records;
  if (Status s = reader.Read(kChunk, &records); !s.ok()) {
    err << "sentinel classify: " << s.message() << "\n";
    return 2;
  }
  const bool single = records.size() == 1 && reader.done();  // one SVG file, not numbered ones
  Progress progress("classify", 0, options.progress);
  int status = 0;
  std::size_t first = 0;  // the input position of records[0]
  while (!records.empty()) {
    const std::size_t n = records.size();
    // Workers take records in order; this thread writes each result as soon as it and all
    // before it are ready, so output streams during long batches and memory holds only the
    // results not yet written.
    struct Done {
      std::string rendered;
      std::string svg;
      bool failed = false;
    };
    std::vector<std::optional<Done>> results(n);
    std::mutex mu;
    std::condition_variable ready;
    std::size_t writing = 0;  // the record the writer waits for; guarded by mu
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next++; i < n; i = next++) {
        const StructureRecord& r = records[i];
        Result<classify::ResolvedStructure> structure =
            r.error.empty() ? classify::ResolveStructure(r.text, r.molfile, classifier.kb())
                            : Result<classify::ResolvedStructure>(Status::InvalidArgument(r.error));
        Done done;
        if (!structure.ok()) {
          structure = Status::InvalidArgument(r.where + ": " + structure.status().message());
          done.failed = true;
        }
        classify::Classification result;
        if (structure.ok()) result = classifier.Classify(*structure->mol, structure->smiles, copts);
        done.rendered = options.format == "json"
                            ? ClassificationJson(r.input, structure, &result) + "\n"
                            : Text(r.input, structure, &result);
        if (!options.svg.empty() && structure.ok()) {
          std::vector<int> highlight;
          for (const auto& [j, f] : result.jurisdictions) {
            if (!f.matched_atoms.empty()) {
              highlight = f.matched_atoms;
              break;
            }
          }
          done.svg = chem::DrawSvg(*structure->mol, highlight, 450, 350,
                                   result.substance ? result.substance->name : r.input);
        }
        bool awaited = false;
        {
          std::lock_guard<std::mutex> lock(mu);
          results[i] = std::move(done);
          awaited = i == writing;
        }
        // Waking the writer for every record costs more than the writing itself.
        if (awaited) ready.notify_one();
        progress.Advance();
      }
    };
    const unsigned threads = options.threads > 0
                                 ? static_cast<unsigned>(options.threads)
                                 : std::max(1U, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < std::min<std::size_t>(threads, std::max<std::size_t>(n, 1)); ++t) {
      pool.emplace_back(work);
    }
    auto write = [&](std::size_t i, const Done& done) {
      out << done.rendered;
      if (done.failed) {
        status = 1;
        err << "sentinel classify: " << records[i].input << ": see its error in the output\n";
      }
      if (!done.svg.empty()) {
        const std::string path = SvgPath(options.svg, first + i, single ? 1 : 2);
        std::ofstream f(path);
        f << done.svg;
        if (!f) {
          err << "sentinel classify: --svg: cannot write " << path << "\n";
          status = 2;
        }
      }
    };
    // The writer sleeps until a record some way ahead is done, then writes every finished one
    // in order: a wake-up per record would cost more than the writing.
    constexpr std::size_t kAhead = 256;
    std::vector<Done> batch;
    for (std::size_t i = 0; i < n;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        for (std::size_t target : {std::min(i + kAhead, n) - 1, i}) {
          writing = target;
          ready.wait(lock, [&] { return results[target].has_value(); });
        }
        for (; i < n && results[i]; ++i) {
          batch.push_back(std::move(*results[i]));
          results[i].reset();
        }
      }
      const std::size_t batch_start = i - batch.size();
      for (std::size_t k = 0; k < batch.size(); ++k) write(batch_start + k, batch[k]);
      batch.clear();
    }
    for (auto& t : pool) t.join();
    first += n;
    records.clear();
    if (reader.done()) break;
    if (Status s = reader.Read(kChunk, &records); !s.ok()) {
      err << "sentinel classify: " << s.message() << "\n";
      status = 2;
      break;
    }
  }
  out.flush();
  return status;
}

}  // namespace sentinel::app
