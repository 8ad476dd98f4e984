#include "app/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

#include "app/classify_command.h"
#include "app/identify_command.h"

#ifndef SENTINEL_VERSION
#define SENTINEL_VERSION "0.0.0"
#endif

namespace sentinel::app {

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Sentinel: early warning and intelligence sharing for synthetic drug threats"};
  app.set_version_flag("--version", std::string("sentinel ") + SENTINEL_VERSION);
  app.require_subcommand(1);

  IdentifyCommandOptions identify;
  std::string rank_by = "match_factor";
  auto* id_cmd = app.add_subcommand(
      "identify",
      "Identify substances from EI mass spectra (MSP, JCAMP-DX, or two-column text) by library "
      "search; name the nearest library compounds when none matches");
  id_cmd->add_option("inputs", identify.inputs, "Spectrum files; '-' or none reads stdin");
  id_cmd
      ->add_option("-l,--library", identify.libraries,
                   "Reference library (spectrum file or .sidx index); repeatable; replaces the "
                   "default; 'default' names the shipped SWGDRUG 3.4")
      ->allow_extra_args(false);
  id_cmd->add_option("-f,--format", identify.format, "Output: table or json (one object a line)")
      ->check(CLI::IsMember({"table", "json"}));
  id_cmd->add_option("-n,--top", identify.search.top, "Hits and analogues to report")
      ->check(CLI::Range(1, 1000));
  id_cmd
      ->add_option("-k,--presearch", identify.search.presearch_k,
                   "Stage-1 candidates per library re-scored in stage 2")
      ->check(CLI::Range(1, 100000));
  id_cmd
      ->add_option("--rank-by", rank_by,
                   "Score that ranks hits and decides the verdict: composite, match_factor, "
                   "reverse_match_factor, entropy_similarity")
      ->check(CLI::IsMember(
          {"composite", "match_factor", "reverse_match_factor", "entropy_similarity"}));
  id_cmd
      ->add_option("--identified-threshold", identify.search.identified_threshold,
                   "Best hit's score (0-999) at or above which the verdict is 'identified'")
      ->check(CLI::Range(0.0, 999.0));
  id_cmd
      ->add_option("--identified-margin", identify.search.identified_margin,
                   "Lead the best hit needs over the best hit of another skeleton (isomers)")
      ->check(CLI::Range(0.0, 999.0));
  id_cmd
      ->add_option("--analogue-threshold", identify.search.analogue_threshold,
                   "Best hybrid score (0-999) at or above which the verdict is 'analogue'")
      ->check(CLI::Range(0.0, 999.0));
  id_cmd
      ->add_option("--max-mass-shift", identify.search.max_mass_shift,
                   "Largest |query - library| mass difference the analogue search considers")
      ->check(CLI::Range(0, 1000));
  id_cmd
      ->add_option("-x,--exclude", identify.excluded,
                   "Search as if no library held this compound (name, synonym or InChIKey); "
                   "repeatable")
      ->allow_extra_args(false);
  id_cmd
      ->add_option("--mass", identify.mass,
                   "Nominal molecular mass for queries whose input gives none (else estimated)")
      ->check(CLI::Range(1, 2000));
  id_cmd->add_flag("--include-labelled", identify.search.include_labelled,
                   "Let isotope-labelled internal standards appear as hits");
  id_cmd->add_option("-j,--threads", identify.threads, "Worker threads (0: all cores)");
  bool no_progress = false;
  id_cmd->add_flag("--no-progress", no_progress, "Do not report progress on stderr");

  auto* lib_cmd = app.add_subcommand("library", "Compile and inspect reference libraries");
  lib_cmd->require_subcommand(1);
  LibraryBuildOptions build;
  auto* build_cmd = lib_cmd->add_subcommand(
      "build", "Compile spectrum libraries into checksummed binary indexes that load in ms");
  build_cmd->add_option("sources", build.sources, "Library files; none: the shipped default");
  build_cmd->add_option("-o,--output", build.output, "Index file (default: the cache)");
  std::string info_path;
  auto* info_cmd = lib_cmd->add_subcommand("info", "Verify an index and describe it");
  info_cmd->add_option("index", info_path, "Index file (.sidx)")->required();

  ClassifyCommandOptions classify;
  auto* cl_cmd = app.add_subcommand(
      "classify",
      "Legal control status (UN, US, CN, GB ...) of structures: listed substances and class-wide "
      "definitions, with explanations; warns of close analogues of controlled substances");
  cl_cmd->add_option("inputs", classify.inputs,
                     "SMILES, InChI, CAS numbers, names, or files (.smi, .sdf, .mol, .csv with a "
                     "smiles column); '-' or none reads stdin");
  cl_cmd->add_option("-f,--format", classify.format, "Output: text or json (one object a line)")
      ->check(CLI::IsMember({"text", "json"}));
  cl_cmd
      ->add_option("-J,--jurisdiction", classify.jurisdictions,
                   "Report only these jurisdictions (UN, US, CN, GB); repeatable")
      ->allow_extra_args(false);
  cl_cmd->add_option("--as-of", classify.as_of,
                     "Evaluate the law as it stood on this date (YYYY-MM-DD); default today");
  cl_cmd->add_option("--svg", classify.svg,
                     "Draw each structure with the matched scaffold highlighted (FILE.svg; "
                     "numbered FILE-N.svg for several inputs)");
  cl_cmd
      ->add_option("-O,--option", classify.options,
                   "Interpretation of an ambiguous legal text, NAME=VALUE (see docs/classify.md); "
                   "repeatable")
      ->allow_extra_args(false);
  cl_cmd
      ->add_option("--analogue-threshold", classify.analogue_threshold,
                   "Tanimoto similarity (Morgan, radius 2) at or above which an uncontrolled "
                   "structure is reported as an analogue of a controlled one")
      ->check(CLI::Range(0.0, 1.0));
  cl_cmd->add_option("-j,--threads", classify.threads, "Worker threads (0: all cores)");
  cl_cmd->add_option("--data", classify.data_dir, "Data directory (default: the shipped data)");
  cl_cmd->add_flag("--rules", classify.list_rules,
                   "List the class rules with their interpretation options, and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream o, eo;
    const int code = app.exit(e, o, eo);
    out << o.str();
    err << eo.str();
    return code == 0 ? 0 : 2;
  }

  if (id_cmd->parsed()) {
    identify.progress = !no_progress;
    identify.search.rank_by = *spectra::ParseRankScore(rank_by);
    return RunIdentify(identify, out, err);
  }
  if (cl_cmd->parsed()) return RunClassify(classify, std::cin, out, err);
  if (build_cmd->parsed()) return RunLibraryBuild(build, out, err);
  if (info_cmd->parsed()) return RunLibraryInfo(info_path, out, err);
  return 2;
}

}  // namespace sentinel::app
