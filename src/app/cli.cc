#include "app/cli.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cctype>
#include <iostream>
#include <sstream>

#include "app/classify_command.h"
#include "app/detect_command.h"
#include "app/identify_command.h"
#include "app/serve_command.h"
#include "core/detect/scan.h"

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
  id_cmd
      ->add_option("--laboratory-window", identify.search.laboratory_window,
                   "Hits within this much (0-999) of the best are ordered with each contributing "
                   "laboratory's effect taken out; 0 orders every hit by its score alone")
      ->check(CLI::Range(0.0, 999.0));
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
  bool classify_no_progress = false;
  cl_cmd->add_flag("--no-progress", classify_no_progress, "No progress counts on stderr");
  cl_cmd->add_option("--data", classify.data_dir, "Data directory (default: the shipped data)");
  cl_cmd->add_flag("--rules", classify.list_rules,
                   "List the class rules with their interpretation options, and exit");

  DetectCommandOptions detect;
  auto* detect_cmd = app.add_subcommand(
      "detect",
      "Temporal aberration detection over count series (CSV series,time,count): expected count, "
      "upper bound and alarm per series and time step");
  detect_cmd
      ->add_option("-m,--method", detect.method,
                   fmt::format("Detector: {}", fmt::join(DetectMethodNames(), ", ")))
      ->required();
  detect_cmd->add_option(
      "-i,--input", detect.input,
      "CSV with columns series,time,count (time: integer, YYYY-MM-DD or YYYY-Www); "
      "'-' reads stdin");
  detect_cmd->add_option("--db", detect.db,
                         "Instead of --input: the weekly series of a node's reports, one per "
                         "substance and place (SQLite file or postgresql://...)");
  detect_cmd->add_option("--kind", detect.kind, "With --db: only reports of this kind");
  detect_cmd
      ->add_option("--audience", detect.audience,
                   "With --db: count what the organisations of this country (ISO 3166-1 alpha-2) "
                   "all see: reports distributed to everyone and its national ones (default: "
                   "those distributed to everyone)")
      ->check([](const std::string& v) {
        return v.size() == 2 && std::isupper(static_cast<unsigned char>(v[0])) &&
                       std::isupper(static_cast<unsigned char>(v[1]))
                   ? std::string()
                   : std::string("must be a country code such as US");
      });
  detect_cmd->add_option("--place", detect.select.place,
                         "With --db: only this country (US) or subdivision (US-CA)");
  detect_cmd->add_flag("--daily", detect.select.daily,
                       "With --db: daily series (dates) instead of ISO weeks, counted report by "
                       "report");
  detect_cmd->add_flag("--by-form", detect.select.by_form,
                       "With --db: one series per substance and seizure form "
                       "(<substance>/<form>@<place>)");
  detect_cmd->add_flag("--by-class", detect.select.by_class,
                       "With --db: one series per substance class instead of substance");
  detect_cmd->add_flag("--by-subdivision", detect.select.by_subdivision,
                       "With --db: series per subdivision instead of per country");
  detect_cmd->add_option("--substance", detect.select.substance,
                         "With --db: only this substance key");
  detect_cmd->add_option("--class", detect.select.substance_class,
                         "With --db: only substances of this class");
  detect_cmd->add_option("--from", detect.select.from,
                         "With --db: output from this day's week (YYYY-MM-DD); earlier weeks "
                         "are still history to the detector");
  detect_cmd->add_option("--to", detect.select.to, "With --db: up to this day's week");
  detect_cmd->add_flag("--signals", detect.signals,
                       "One row per signal instead of per step: a series' alarms folded into "
                       "episodes, with the detector's parameters (in JSON) and its latest and peak "
                       "step");
  detect_cmd
      ->add_option("--max-gap", detect.max_gap,
                   "With --signals: steps without alarm that do not end a signal")
      ->check(CLI::Range(0, 1000));
  detect_cmd->add_option("-f,--format", detect.format, "Output: csv or json (one object a line)")
      ->check(CLI::IsMember({"csv", "json"}));
  detect_cmd
      ->add_option(
          "--alpha", detect.alpha,
          "EARS, Farrington: one-sided level (default: EARS 0.001, Farrington 0.05); "
          "cusum: the negative-binomial dispersion (default: estimated), as R's "
          "control lists; scan: the p-value of an alarm; combinations: the family-wise level "
          "(both default 0.05)")
      ->check(CLI::NonNegativeNumber);
  detect_cmd->add_option("--baseline", detect.baseline, "EARS: steps in the baseline window")
      ->check(CLI::Range(3, 1'000'000));
  detect_cmd
      ->add_option("--min-sigma", detect.min_sigma,
                   "EARS: floor on the baseline standard deviation (on loads: of log10 loads)")
      ->check(CLI::NonNegativeNumber);
  detect_cmd
      ->add_option("--load-floor", detect.load_floor,
                   "EARS on wastewater loads (a `load` column, or --db --kind wastewater): "
                   "loads below it, 0 included, count as it (mg/1000 people/day)")
      ->check(CLI::PositiveNumber);
  detect_cmd->add_option("--b", detect.b, "Farrington: years back in the reference window")
      ->check(CLI::Range(1, 100));
  detect_cmd->add_option("--w", detect.w, "Farrington: half-window around each reference week")
      ->check(CLI::Range(0, 52));
  detect_cmd->add_option("--c-arl", detect.c_arl, "cusum: threshold of the statistic (c.ARL)")
      ->check(CLI::PositiveNumber);
  detect_cmd->add_option("--mu0", detect.mu0,
                         "cusum: in-control mean, constant (default: fitted on the baseline; "
                         "needs --alpha)");
  detect_cmd->add_option("--theta", detect.theta,
                         "cusum: known shift on the log scale (default: estimated, the GLR "
                         "detector)");
  detect_cmd->add_option("--M", detect.M, "cusum: steps back a change may lie (-1: all)")
      ->check(CLI::Range(-1, 1'000'000));
  detect_cmd->add_option("--S", detect.S, "cusum: yearly harmonics in the baseline model")
      ->check(CLI::Range(0, 26));
  detect_cmd->add_flag("--trend", detect.trend, "cusum: a linear trend in the baseline model");
  detect_cmd
      ->add_option("--range-start", detect.range_start,
                   "cusum: first judged step of each series, 1-based (default: frequency + 1); "
                   "the steps before are the baseline")
      ->check(CLI::Range(1, 1'000'000));
  detect_cmd
      ->add_option("--max-window", detect.max_window,
                   "scan: most steps in a cluster (default 4, or 7 for daily dates)")
      ->check(CLI::Range(1, 1'000'000));
  detect_cmd
      ->add_option("--max-share", detect.max_share,
                   "scan: largest share of all cases in a cluster's places (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  detect_cmd
      ->add_option("--max-radius", detect.max_radius_km,
                   "scan: largest radius of a cluster in km (default: none)")
      ->check(CLI::NonNegativeNumber);
  detect_cmd
      ->add_option("--replicates", detect.replicates,
                   "scan: Monte Carlo replicates for the p-values (default 999; 0: none)")
      ->check(CLI::Range(0, detect::kMaxScanReplicates));
  detect_cmd
      ->add_option("--stop-after", detect.stop_after,
                   "scan: stop the replicates once this many reach the most likely cluster "
                   "(sequential Monte Carlo; default 0: run them all)")
      ->check(CLI::Range(0, detect::kMaxScanReplicates));
  detect_cmd->add_option("--seed", detect.seed, "scan: random seed of the replicates (default 1)");
  detect_cmd->add_flag("--retrospective", detect.retrospective,
                       "scan: clusters at any time, not only those still alive at the last step");
  detect_cmd
      ->add_option("--min-cases", detect.min_cases, "scan: fewest cases in a cluster (default 2)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  detect_cmd
      ->add_option("--max-clusters", detect.max_clusters,
                   "scan: most clusters written per scan (default 10)")
      ->check(CLI::Range(1, 10'000));
  detect_cmd
      ->add_option("--study-steps", detect.study_steps,
                   "scan: the last steps scanned (default: all of --input, 52 weeks of --db)")
      ->check(CLI::Range(1, 1'000'000));
  detect_cmd->add_option("--places", detect.places,
                         "scan with --db: CSV place,lat,lon placing the subdivisions (default: "
                         "the shipped approximate centroids)");
  detect_cmd
      ->add_option("--window", detect.window,
                   "combinations, precursors: the last steps judged against those before "
                   "(default 4)")
      ->check(CLI::Range(1, 1'000'000));
  detect_cmd
      ->add_option("--min-together", detect.min_together,
                   "combinations: fewest samples holding a pair for it to be judged (default 1)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  detect_cmd
      ->add_option("--max-z", detect.max_z,
                   "precursors: modified z-score beyond which a quantity is unusual (default 3.5)")
      ->check(CLI::PositiveNumber);
  detect_cmd
      ->add_option("--min-history", detect.min_history,
                   "precursors: earlier quantities of a chemical needed to judge one (default 5)")
      ->check(CLI::Range(1, 1'000'000));
  detect_cmd
      ->add_option("--frequency", detect.frequency,
                   "Steps per year (default 52, or 365 for daily dates)")
      ->check(CLI::Range(1, 366));

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve the report API (JSON over HTTP under /api/v1) on a node's database");
  serve_cmd->add_option("--db", serve.db,
                        "Database: a file (SQLite, created if absent) or postgresql://...");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0: any free)");
  serve_cmd->add_flag("--demo", serve.demo,
                      "Start on a local demo database (sentinel-demo/ unless --db), generated "
                      "on first start, and print a token");
  serve_cmd->add_option("--demo-reports", serve.demo_reports, "Size of the generated demo history")
      ->check(CLI::Range(1000, 20'000'000));
  serve_cmd->add_option("--threads", serve.threads, "HTTP handler threads")
      ->check(CLI::Range(1, 1024));
  serve_cmd->add_option("--data", serve.data_dir, "Data directory (default: the shipped data)");
  serve_cmd->add_option(
      "--key-file", serve.key_file,
      "Node key file for pseudonymising vendor handles (default: <db>.key beside a SQLite file; "
      "required with PostgreSQL, and shared by every node on one database)");
  serve_cmd
      ->add_option("--detect", serve.detect_methods,
                   "Detectors run live on every accepted report, comma-separated (first, "
                   "ears-c1, ears-c2, ears-c3, farrington, noufaily, precursors, first-in-form, "
                   "new-combination, scan, combinations), or none")
      ->delimiter(',')
      ->capture_default_str();
  serve_cmd
      ->add_option("--detect-loads", serve.load_methods,
                   "Detectors run live on the wastewater load series of every accepted "
                   "measurement, comma-separated (first, ears-c1, ears-c2, ears-c3), or none")
      ->delimiter(',')
      ->capture_default_str();
  serve_cmd->add_option("--places", serve.places,
                        "The live scan's gazetteer: a CSV of place,lat,lon (default: the shipped "
                        "centroids)");
  serve_cmd
      ->add_option("--scan-every", serve.scan_every_seconds,
                   "The least seconds between two live scans of one substance")
      ->check(CLI::Range(0, 86'400))
      ->capture_default_str();
  serve_cmd
      ->add_option("--combinations-every", serve.combinations_every_seconds,
                   "The least seconds between two live judgements of the pairs beyond expectation")
      ->check(CLI::Range(0, 86'400))
      ->capture_default_str();
  serve_cmd->add_option("--max-gap", serve.max_gap, "Quiet weeks that do not end a live signal")
      ->check(CLI::Range(0, 52))
      ->capture_default_str();

  ImportOptions import;
  bool import_no_progress = false;
  auto* import_cmd = app.add_subcommand(
      "import", "Bulk-load reports from CSV (columns are field paths) or JSON Lines files");
  import_cmd
      ->add_option("files", import.files, "Files (.csv, .jsonl); '-' reads JSON Lines from stdin")
      ->required();
  import_cmd->add_option("--db", import.db, "Database file or postgresql://...")->required();
  import_cmd->add_option("--organisation", import.organisation, "Source organisation of every row")
      ->required();
  import_cmd->add_option("--data", import.data_dir, "Data directory (default: the shipped data)");
  import_cmd->add_option(
      "--key-file", import.key_file,
      "Node key file for pseudonymising vendor handles (default: <db>.key beside a SQLite file; "
      "required with PostgreSQL, and shared by every node on one database)");
  import_cmd->add_flag("--no-progress", import_no_progress, "No progress counts on stderr");

  AdminOptions admin;
  auto* admin_cmd = app.add_subcommand("admin", "Organisations and API tokens of a node");
  admin_cmd->require_subcommand(1);
  auto* org_cmd = admin_cmd->add_subcommand("organisation", "Create or update an organisation");
  org_cmd->add_option("--db", admin.db, "Database")->required();
  org_cmd->add_option("--id", admin.id, "Short identifier, e.g. nfl-ohio")->required();
  org_cmd->add_option("--name", admin.name, "Display name");
  org_cmd->add_option("--country", admin.country, "ISO 3166-1 alpha-2 country")->required();
  org_cmd->add_option("--group", admin.groups, "Trusted group (repeatable)")
      ->allow_extra_args(false);
  auto* token_cmd = admin_cmd->add_subcommand(
      "token", "Create an API token (printed once on stdout; only its hash is kept)");
  token_cmd->add_option("--db", admin.db, "Database")->required();
  token_cmd->add_option("--organisation", admin.organisation, "Organisation")->required();
  token_cmd->add_option("--user", admin.user, "Who uses the token (a handle, not a name)")
      ->required();
  token_cmd->add_option("--role", admin.role, "reader, reporter, analyst or admin")
      ->required()
      ->check(CLI::IsMember({"reader", "reporter", "analyst", "admin"}));
  auto* revoke_cmd = admin_cmd->add_subcommand("revoke", "Revoke an API token");
  revoke_cmd->add_option("--db", admin.db, "Database")->required();
  revoke_cmd->add_option("--token-id", admin.token_id, "Token id")->required();

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
  if (cl_cmd->parsed()) {
    classify.progress = !classify_no_progress;
    return RunClassify(classify, std::cin, out, err);
  }
  if (detect_cmd->parsed()) return RunDetect(detect, std::cin, out, err);
  if (build_cmd->parsed()) return RunLibraryBuild(build, out, err);
  if (info_cmd->parsed()) return RunLibraryInfo(info_path, out, err);
  if (serve_cmd->parsed()) return RunServe(serve, out, err);
  if (import_cmd->parsed()) {
    import.progress = !import_no_progress;
    return RunImport(import, std::cin, out, err);
  }
  if (org_cmd->parsed()) {
    admin.action = "organisation";
    return RunAdmin(admin, out, err);
  }
  if (token_cmd->parsed()) {
    admin.action = "token";
    return RunAdmin(admin, out, err);
  }
  if (revoke_cmd->parsed()) {
    admin.action = "revoke";
    return RunAdmin(admin, out, err);
  }
  return 2;
}

}  // namespace sentinel::app
