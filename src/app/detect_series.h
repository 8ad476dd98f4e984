// Count series from a node's stored reports, for `sentinel detect` without --input.
//
// From the store's weekly summary (reports::Store::Aggregate, as the node itself sees it): one
// series per substance and place — country, or subdivision with `by_subdivision` — named
// "<substance>@<place>", and one per substance over all places, "<substance>@*", where
// <substance> is the substance's recorded name, or its key when another shares the name. Every
// series spans the same ISO weeks, from the first week with any report to `to` (default: the
// last week with one), zeros where nothing was reported; the whole history is read whatever
// `from` says, since detectors need it (a first detection is only first against all of it).
// `from` only says where the output starts (CountSeriesFile::output_from). Without a `kind`,
// every kind but wastewater counts: a measurement is a load, not an occurrence (a site sampling
// weekly would add one "report" a week to its analyte).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "app/detect_input.h"
#include "core/common/status.h"
#include "core/reports/store.h"

namespace sentinel::app {

// With `kind` wastewater the series are loads, not counts (CountSeriesFile::loads): one per
// analyte and site, "<analyte>@<country>/<site>", each step the mean load measured in it, NaN
// where the site measured nothing; read from the reports themselves.
// With `daily`, `by_form` or `by_class` the series are counted from the reports themselves
// (Store::Query, slower than the summary): daily steps (dates; frequency 365); one series per
// substance and seizure form, "<substance>/<form>@<place>" (reports without a form keep the
// plain series); or per substance class instead of substance, "<class>@<place>", a report
// counting once in each class any of its substances belongs to.
struct StoreSeriesSelection {
  std::optional<reports::Kind> kind;
  std::optional<std::string> place;  // a country (2 letters) or a subdivision (US-CA)
  bool by_subdivision = false;
  bool daily = false;
  bool by_form = false;
  bool by_class = false;
  std::optional<std::string> substance;        // a substance key
  std::optional<std::string> substance_class;  // a class id
  std::optional<std::string> from, to;         // YYYY-MM-DD
};

// Every report `query` finds that `viewer` may see (latest versions, newest first), read a page
// at a time and given to `visit`; stops at the first error `visit` returns. With a `progress`
// label, counts on stderr (reading a large node takes seconds).
Status ForEachStoredReport(reports::Store& store, const reports::Principal& viewer,
                           reports::ReportQuery query, std::string_view progress,
                           const std::function<Status(reports::StoredReport&)>& visit);

// Substances' recorded names (their keys when they have none), each looked up once.
class SubstanceNames {
 public:
  SubstanceNames(reports::Store& store, const reports::Principal& viewer)
      : store_(store), viewer_(viewer) {}
  const std::string& Of(const std::string& key);

 private:
  reports::Store& store_;
  const reports::Principal& viewer_;
  std::map<std::string, std::string> names_;
};

Result<CountSeriesFile> SeriesFromStore(reports::Store& store, const reports::Principal& viewer,
                                        const StoreSeriesSelection& selection);

}  // namespace sentinel::app
