#include "app/detect_input.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "app/csv.h"
#include "core/common/text.h"

namespace sentinel::app {
namespace {

namespace chr = std::chrono;

bool Digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// 1969-12-29 is a Monday, 3 days before the epoch; week indices count Mondays from it.
constexpr std::int64_t kMondayOffset = 3;

chr::sys_days IsoWeekOneMonday(int year) {
  // Week 1 is the week holding 4 January.
  const chr::sys_days jan4{chr::year{year} / chr::January / 4};
  return jan4 - chr::days{chr::weekday{jan4}.iso_encoding() - 1};
}

std::optional<std::int64_t> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s.substr(0, 4)) ||
      !Digits(s.substr(5, 2)) || !Digits(s.substr(8, 2))) {
    return std::nullopt;
  }
  const chr::year_month_day d{chr::year{static_cast<int>(*ParseInt(s.substr(0, 4)))},
                              chr::month{static_cast<unsigned>(*ParseInt(s.substr(5, 2)))},
                              chr::day{static_cast<unsigned>(*ParseInt(s.substr(8, 2)))}};
  if (!d.ok()) return std::nullopt;
  return chr::sys_days{d}.time_since_epoch().count();
}

std::optional<std::int64_t> ParseIsoWeek(std::string_view s) {
  if (s.size() != 8 || s[4] != '-' || s[5] != 'W' || !Digits(s.substr(0, 4)) ||
      !Digits(s.substr(6, 2))) {
    return std::nullopt;
  }
  const int year = static_cast<int>(*ParseInt(s.substr(0, 4)));
  const std::int64_t week = *ParseInt(s.substr(6, 2));
  const auto first = IsoWeekOneMonday(year);
  const std::int64_t weeks_in_year = (IsoWeekOneMonday(year + 1) - first).count() / 7;
  if (week < 1 || week > weeks_in_year) return std::nullopt;
  const std::int64_t monday = (first + chr::days{7 * (week - 1)}).time_since_epoch().count();
  return (monday + kMondayOffset) / 7;
}

TimeKind GuessTimeKind(std::string_view s) {
  if (s.size() == 8 && s[5] == 'W') return TimeKind::kIsoWeek;
  if (s.size() == 10 && s[4] == '-') return TimeKind::kDate;
  return TimeKind::kIndex;
}

std::string_view TimeKindName(TimeKind kind) {
  switch (kind) {
    case TimeKind::kIndex:
      return "an integer step";
    case TimeKind::kDate:
      return "a date YYYY-MM-DD";
    case TimeKind::kIsoWeek:
      return "an ISO week YYYY-Www";
  }
  return "?";
}

// b - a for a < b, without the signed overflow of times at opposite ends of the range.
std::uint64_t Distance(std::int64_t a, std::int64_t b) {
  return static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a);
}

std::optional<double> ParseCount(std::string_view s) {
  const auto v = ParseFiniteNumber(s);
  if (!v || *v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::int64_t> ParseTime(TimeKind kind, std::string_view s) {
  switch (kind) {
    case TimeKind::kIndex:
      return ParseInt(s);
    case TimeKind::kDate:
      return ParseDate(s);
    case TimeKind::kIsoWeek:
      return ParseIsoWeek(s);
  }
  return std::nullopt;
}

std::int64_t IsoWeekIndex(std::chrono::sys_days day) {
  const std::int64_t days = day.time_since_epoch().count() + kMondayOffset;
  return days >= 0 ? days / 7 : -((-days + 6) / 7);
}

std::chrono::sys_days IsoWeekMonday(std::int64_t week) {
  return std::chrono::sys_days{std::chrono::days{week * 7 - kMondayOffset}};
}

std::string FormatTime(TimeKind kind, std::int64_t time) {
  switch (kind) {
    case TimeKind::kIndex:
      return std::to_string(time);
    case TimeKind::kDate: {
      const chr::year_month_day d{chr::sys_days{chr::days{time}}};
      return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                         static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    }
    case TimeKind::kIsoWeek: {
      const chr::sys_days monday{chr::days{time * 7 - kMondayOffset}};
      // The ISO year is the year of the week's Thursday.
      const chr::year_month_day thursday{monday + chr::days{3}};
      const int year = static_cast<int>(thursday.year());
      const auto week = (monday - IsoWeekOneMonday(year)).count() / 7 + 1;
      return fmt::format("{:04}-W{:02}", year, week);
    }
  }
  return {};
}

namespace {

// A row's lat/lon cells: both empty, or a point on the globe that agrees with the series' other
// rows. `error(lat_column, what)` names the cell.
template <typename Error>
Status PlaceSeries(const std::string& lat_text, const std::string& lon_text, NamedSeries& series,
                   const Error& error) {
  if (lat_text.empty() && lon_text.empty()) return Status::Ok();
  const auto lat = ParseFiniteNumber(lat_text);
  const auto lon = ParseFiniteNumber(lon_text);
  if (!lat || *lat < -90 || *lat > 90) {
    return error(true, fmt::format("'{}' is not a latitude (-90 to 90)", lat_text));
  }
  if (!lon || *lon < -180 || *lon > 180) {
    return error(false, fmt::format("'{}' is not a longitude (-180 to 180)", lon_text));
  }
  if (series.lat && (*series.lat != *lat || *series.lon != *lon)) {
    return error(true, fmt::format("series '{}' was placed at {}, {} on an earlier row",
                                   series.name, *series.lat, *series.lon));
  }
  series.lat = lat;
  series.lon = lon;
  return Status::Ok();
}

}  // namespace

Result<CountSeriesFile> ParseCountSeriesCsv(std::string_view text, std::string_view source) {
  CountSeriesFile file;
  std::map<std::string, std::size_t, std::less<>> index;  // series name -> file.series slot
  std::size_t col_series = 0, col_time = 0, col_count = 0, columns = 0;
  std::optional<std::size_t> col_lat, col_lon;
  bool have_header = false, have_kind = false;
  std::size_t line_no = 0;
  std::uint64_t filled = 0;  // zero counts put in gaps so far
  auto error = [&](std::size_t column, std::string_view name, const std::string& what) {
    return Status::InvalidArgument(
        fmt::format("{}: line {}, column {} ({}): {}", source, line_no, column + 1, name, what));
  };
  const Status read =
      ForEachCsvLine(text, false, [&](std::size_t line, std::vector<std::string>& cells) -> Status {
        line_no = line;
        if (!have_header) {
          bool seen[3] = {false, false, false};
          const bool names_count = std::find(cells.begin(), cells.end(), "count") != cells.end();
          file.loads = !names_count && std::find(cells.begin(), cells.end(), "load") != cells.end();
          for (std::size_t i = 0; i < cells.size(); ++i) {
            const std::string_view names[3] = {"series", "time", file.loads ? "load" : "count"};
            std::size_t* slots[3] = {&col_series, &col_time, &col_count};
            for (int k = 0; k < 3; ++k) {
              if (cells[i] != names[k]) continue;
              if (seen[k]) return error(i, cells[i], "column named twice in the header");
              seen[k] = true;
              *slots[k] = i;
            }
          }
          for (int k = 0; k < 3; ++k) {
            if (!seen[k]) {
              return Status::InvalidArgument(fmt::format(
                  "{}: line {}: the header must name the columns series, time and count (or load)",
                  source, line_no));
            }
          }
          for (std::size_t i = 0; i < cells.size(); ++i) {
            if (cells[i] != "lat" && cells[i] != "lon") continue;
            std::optional<std::size_t>& slot = cells[i] == "lat" ? col_lat : col_lon;
            if (slot) return error(i, cells[i], "column named twice in the header");
            slot = i;
          }
          if (col_lat.has_value() != col_lon.has_value()) {
            return Status::InvalidArgument(
                fmt::format("{}: line {}: the header names one of lat and lon without the other",
                            source, line_no));
          }
          columns = cells.size();
          have_header = true;
          return Status::Ok();
        }
        if (cells.size() != columns) {
          return Status::InvalidArgument(
              fmt::format("{}: line {}: {} columns where the header has {}", source, line_no,
                          cells.size(), columns));
        }
        const std::string& name = cells[col_series];
        if (name.empty()) return error(col_series, "series", "empty series name");
        const std::string& time_text = cells[col_time];
        if (!have_kind) {
          file.time_kind = GuessTimeKind(time_text);
          have_kind = true;
        }
        const auto time = ParseTime(file.time_kind, time_text);
        if (!time) {
          return error(col_time, "time",
                       fmt::format("'{}' is not {} (the file's first time says which kind it uses)",
                                   time_text, TimeKindName(file.time_kind)));
        }
        const auto count = ParseCount(cells[col_count]);
        if (!count) {
          const std::string_view what = file.loads ? "load" : "count";
          return error(
              col_count, what,
              fmt::format("'{}' is not a {} (a finite number, 0 or more)", cells[col_count], what));
        }
        auto [it, inserted] = index.try_emplace(name, file.series.size());
        if (inserted) {
          NamedSeries s;
          s.name = name;
          s.series.frequency = file.time_kind == TimeKind::kDate ? 365 : 52;
          file.series.push_back(std::move(s));
        }
        NamedSeries& named = file.series[it->second];
        if (col_lat) {
          if (Status s = PlaceSeries(cells[*col_lat], cells[*col_lon], named,
                                     [&](bool lat_column, const std::string& what) {
                                       return lat_column ? error(*col_lat, "lat", what)
                                                         : error(*col_lon, "lon", what);
                                     });
              !s.ok()) {
            return s;
          }
        }
        detect::CountSeries& series = named.series;
        if (!series.time.empty()) {
          const std::int64_t last = series.time.back();
          if (*time <= last) {
            return error(col_time, "time",
                         fmt::format("{} does not come after {}, the series' previous time",
                                     time_text, FormatTime(file.time_kind, last)));
          }
          const std::uint64_t gap = Distance(last, *time) - 1;
          if (Distance(series.time.front(), *time) >= kMaxSeriesSteps) {
            return error(
                col_time, "time",
                fmt::format("series '{}' would span more than {} steps", name, kMaxSeriesSteps));
          }
          filled += gap;
          if (filled > kMaxFilledSteps) {
            return error(col_time, "time",
                         fmt::format("more than {} missing steps to fill", kMaxFilledSteps));
          }
          const double unseen = file.loads ? std::numeric_limits<double>::quiet_NaN() : 0.0;
          for (std::int64_t t = last + 1; t < *time; ++t) {
            series.time.push_back(t);
            series.observed.push_back(unseen);
          }
        }
        series.time.push_back(*time);
        series.observed.push_back(*count);
        return Status::Ok();
      });
  if (!read.ok()) return read;
  if (!have_header) {
    return Status::InvalidArgument(
        fmt::format("{}: no header (series,time,count) and no rows", source));
  }
  return file;
}

Result<SampleFile> ParseSamplesCsv(std::string_view text, std::string_view source) {
  SampleFile file;
  std::map<std::string, std::size_t, std::less<>> index;  // sample id -> slot
  std::vector<std::string> forms;                         // per slot, "" until given
  std::optional<std::size_t> col_sample, col_time, col_substance, col_form;
  std::size_t columns = 0;
  bool have_kind = false;
  const Status read = ForEachCsvLine(
      text, false, [&](std::size_t line, const std::vector<std::string>& cells) -> Status {
        const auto error = [&](std::size_t column, const std::string& what) {
          return Status::InvalidArgument(fmt::format("{}: line {}, column {} ({}): {}", source,
                                                     line, column + 1, cells[column], what));
        };
        if (columns == 0) {
          const std::pair<std::string_view, std::optional<std::size_t>*> wanted[] = {
              {"sample", &col_sample},
              {"time", &col_time},
              {"substance", &col_substance},
              {"form", &col_form}};
          for (std::size_t i = 0; i < cells.size(); ++i) {
            for (const auto& [name, slot] : wanted) {
              if (cells[i] != name) continue;
              if (slot->has_value()) return error(i, "column named twice in the header");
              *slot = i;
            }
          }
          if (!col_sample || !col_time || !col_substance) {
            return Status::InvalidArgument(fmt::format(
                "{}: line {}: the header must name the columns sample, time and substance", source,
                line));
          }
          columns = cells.size();
          return Status::Ok();
        }
        if (cells.size() != columns) {
          return Status::InvalidArgument(
              fmt::format("{}: line {}: {} columns where the header has {}", source, line,
                          cells.size(), columns));
        }
        const auto at = [&](std::size_t column, const std::string& what) {
          return Status::InvalidArgument(
              fmt::format("{}: line {}, column {}: {}", source, line, column + 1, what));
        };
        const std::string& id = cells[*col_sample];
        if (id.empty()) return at(*col_sample, "(sample) empty sample id");
        const std::string& substance = cells[*col_substance];
        if (substance.empty()) return at(*col_substance, "(substance) empty substance");
        if (substance.rfind("form:", 0) == 0) {
          return at(*col_substance, "(substance) 'form:' names a form, not a substance");
        }
        if (!have_kind) {
          file.time_kind = GuessTimeKind(cells[*col_time]);
          have_kind = true;
        }
        const auto time = ParseTime(file.time_kind, cells[*col_time]);
        if (!time) {
          return at(
              *col_time,
              fmt::format("(time) '{}' is not {} (the file's first time says which kind it uses)",
                          cells[*col_time], TimeKindName(file.time_kind)));
        }
        auto [it, inserted] = index.try_emplace(id, file.samples.size());
        if (inserted) {
          file.ids.push_back(id);
          file.samples.push_back({*time, {}});
          forms.emplace_back();
        }
        detect::Sample& sample = file.samples[it->second];
        if (sample.time != *time) {
          return at(*col_time, fmt::format("(time) sample '{}' was at {} on an earlier row", id,
                                           FormatTime(file.time_kind, sample.time)));
        }
        if (col_form && !cells[*col_form].empty()) {
          std::string& form = forms[it->second];
          if (form.empty()) {
            form = cells[*col_form];
            sample.items.push_back("form:" + form);
          } else if (form != cells[*col_form]) {
            return at(*col_form,
                      fmt::format("(form) sample '{}' was {} on an earlier row", id, form));
          }
        }
        if (sample.items.size() >= kMaxSampleItems) {
          return at(*col_substance,
                    fmt::format("(substance) sample '{}' names more than {} substances", id,
                                kMaxSampleItems));
        }
        sample.items.push_back(substance);
        return Status::Ok();
      });
  if (!read.ok()) return read;
  if (columns == 0) {
    return Status::InvalidArgument(
        fmt::format("{}: no header (sample,time,substance) and no rows", source));
  }
  return file;
}

std::optional<std::pair<double, detect::QuantityDimension>> NormaliseQuantity(
    double value, std::string_view unit) {
  using detect::QuantityDimension;
  if (unit == "mg") return std::make_pair(value / 1e6, QuantityDimension::kMass);
  if (unit == "g") return std::make_pair(value / 1e3, QuantityDimension::kMass);
  if (unit == "kg") return std::make_pair(value, QuantityDimension::kMass);
  if (unit == "ml") return std::make_pair(value / 1e3, QuantityDimension::kVolume);
  if (unit == "l") return std::make_pair(value, QuantityDimension::kVolume);
  if (unit == "units") return std::make_pair(value, QuantityDimension::kUnits);
  return std::nullopt;
}

Result<ShipmentFile> ParseShipmentsCsv(std::string_view text, std::string_view source) {
  ShipmentFile file;
  std::set<std::string, std::less<>> ids;
  enum Column { kShipment, kTime, kChemical, kQuantity, kUnit, kOrigin, kDestination, kTransit };
  constexpr std::string_view kNames[] = {"shipment", "time",   "chemical",    "quantity",
                                         "unit",     "origin", "destination", "transit"};
  std::optional<std::size_t> col[8];
  std::size_t columns = 0;
  bool have_kind = false;
  const Status read = ForEachCsvLine(
      text, false, [&](std::size_t line, const std::vector<std::string>& cells) -> Status {
        if (columns == 0) {
          for (std::size_t i = 0; i < cells.size(); ++i) {
            for (std::size_t k = 0; k < 8; ++k) {
              if (cells[i] != kNames[k]) continue;
              if (col[k]) {
                return Status::InvalidArgument(
                    fmt::format("{}: line {}, column {}: {} named twice in the header", source,
                                line, i + 1, cells[i]));
              }
              col[k] = i;
            }
          }
          for (std::size_t k = 0; k < kTransit; ++k) {
            if (!col[k]) {
              return Status::InvalidArgument(fmt::format(
                  "{}: line {}: the header must name the columns shipment, time, chemical, "
                  "quantity, unit, origin and destination",
                  source, line));
            }
          }
          columns = cells.size();
          return Status::Ok();
        }
        if (cells.size() != columns) {
          return Status::InvalidArgument(
              fmt::format("{}: line {}: {} columns where the header has {}", source, line,
                          cells.size(), columns));
        }
        const auto cell = [&](Column c) -> const std::string& { return cells[*col[c]]; };
        // Errors name the column by its place in the line, as the other detect inputs do.
        const auto error = [&](Column c, const std::string& what) {
          return Status::InvalidArgument(fmt::format("{}: line {}, column {} ({}): {}", source,
                                                     line, *col[c] + 1, kNames[c], what));
        };
        detect::Shipment s;
        s.id = cell(kShipment);
        if (s.id.empty()) return error(kShipment, "empty shipment id");
        if (!ids.insert(s.id).second) return error(kShipment, "'" + s.id + "' named twice");
        s.chemical = cell(kChemical);
        if (s.chemical.empty()) return error(kChemical, "empty chemical");
        if (!have_kind) {
          file.time_kind = GuessTimeKind(cell(kTime));
          have_kind = true;
        }
        const auto time = ParseTime(file.time_kind, cell(kTime));
        if (!time) {
          return error(kTime, fmt::format("'{}' is not {} (the file's first time says which kind "
                                          "it uses)",
                                          cell(kTime), TimeKindName(file.time_kind)));
        }
        s.time = *time;
        const auto value = ParseFiniteNumber(cell(kQuantity));
        if (!value || *value <= 0) {
          return error(kQuantity, "'" + cell(kQuantity) + "' is not a quantity above 0");
        }
        const auto normalised = NormaliseQuantity(*value, cell(kUnit));
        if (!normalised) {
          return error(kUnit, "'" + cell(kUnit) + "' is not mg, g, kg, ml, l or units");
        }
        s.quantity = normalised->first;
        s.dimension = normalised->second;
        const auto country = [](const std::string& c) {
          return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
        };
        s.origin = cell(kOrigin);
        if (!country(s.origin)) return error(kOrigin, "'" + s.origin + "' is not a country code");
        s.destination = cell(kDestination);
        if (!country(s.destination)) {
          return error(kDestination, "'" + s.destination + "' is not a country code");
        }
        if (col[kTransit] && !cell(kTransit).empty()) {
          for (std::string& c : Split(cell(kTransit), ';')) {
            c = Trim(c);
            if (!country(c)) return error(kTransit, "'" + c + "' is not a country code");
            if (s.transit.size() >= 10) return error(kTransit, "more than 10 transit countries");
            s.transit.push_back(std::move(c));
          }
        }
        file.shipments.push_back(std::move(s));
        file.quantities.push_back(*value);
        file.units.push_back(cell(kUnit));
        return Status::Ok();
      });
  if (!read.ok()) return read;
  if (columns == 0) {
    return Status::InvalidArgument(fmt::format("{}: no header and no shipments", source));
  }
  return file;
}

}  // namespace sentinel::app
