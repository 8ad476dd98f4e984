#include "core/reports/store.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <tuple>

namespace sentinel::reports {
namespace {

constexpr std::array<std::string_view, 4> kRoleNames = {"reader", "reporter", "analyst", "admin"};

}  // namespace

std::string_view RoleName(Role role) { return kRoleNames[static_cast<std::size_t>(role)]; }

std::optional<Role> ParseRole(std::string_view name) {
  for (std::size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return std::nullopt;
}

bool Visible(Distribution distribution, const std::string& source_organisation,
             const std::string& source_country, const std::vector<std::string>& source_groups,
             const Principal& viewer) {
  if (viewer.organisation == source_organisation) return true;
  switch (distribution) {
    case Distribution::kOrganisation:
      return false;
    case Distribution::kNational:
      return viewer.country == source_country;
    case Distribution::kTrustedGroup:
      return std::any_of(source_groups.begin(), source_groups.end(), [&](const std::string& g) {
        return std::find(viewer.trusted_groups.begin(), viewer.trusted_groups.end(), g) !=
               viewer.trusted_groups.end();
      });
    case Distribution::kEveryone:
      return true;
  }
  return false;
}

bool SignalAudienceSees(const std::string& audience, const DetectionCountRow& row) {
  return row.distribution == Distribution::kEveryone ||
         (row.distribution == Distribution::kNational && row.org_country == audience);
}

bool SignalVisible(const std::string& audience, const Principal& viewer) {
  return !viewer.country.empty() && viewer.country == audience;
}

namespace {
constexpr std::string_view kClassKeyPrefix = "class:";
}  // namespace

std::string ClassSignalKey(std::string_view class_id) {
  std::string key(kClassKeyPrefix);
  key += class_id;
  return key;
}

std::optional<std::string_view> ClassOfSignalKey(std::string_view key) {
  if (!key.starts_with(kClassKeyPrefix)) return std::nullopt;
  return key.substr(kClassKeyPrefix.size());
}

std::chrono::sys_days PeriodStart(Period period, std::chrono::sys_days day) {
  if (period == Period::kMonth) {
    const std::chrono::year_month_day ymd{day};
    return std::chrono::sys_days{ymd.year() / ymd.month() / std::chrono::day{1}};
  }
  const std::chrono::weekday wd{day};
  return day - (wd - std::chrono::Monday);
}

std::string FormatDay(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

Result<std::chrono::sys_days> ParseDay(std::string_view text) {
  auto digits = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a date YYYY-MM-DD");
  }
  const int y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (y < 0 || m < 0 || d < 0 || !ymd.ok()) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a calendar date");
  }
  return std::chrono::sys_days{ymd};
}

Principal NodeAdministrator() {
  Principal p;
  p.organisation = "";
  p.user = "node";
  p.role = Role::kAdmin;
  return p;
}

std::string FormatReportId(std::uint64_t unix_ms, std::uint32_t random) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  // 80 bits: the time in the high 48, the random part in the low 32; 16 digits of 5 bits.
  const std::uint64_t high = unix_ms >> 16;                       // top 32 of the 48 time bits
  const std::uint64_t low = ((unix_ms & 0xffff) << 32) | random;  // 16 time bits + 32 random
  std::string id = "r";
  for (int i = 15; i >= 0; --i) {
    const int bit = i * 5;  // position of this digit's lowest bit in the 80-bit number
    std::uint64_t digit = 0;
    for (int b = 4; b >= 0; --b) {
      const int pos = bit + b;
      const std::uint64_t v = pos >= 48 ? (high >> (pos - 48)) & 1 : (low >> pos) & 1;
      digit = (digit << 1) | v;
    }
    id += kAlphabet[digit];
  }
  return id;
}

SummaryAudience SummaryAudienceOf(Distribution distribution, const std::string& organisation,
                                  const std::string& org_country) {
  const bool national = distribution == Distribution::kNational;
  const bool everyone = distribution == Distribution::kEveryone;
  return {national ? org_country : std::string(),
          national || everyone ? std::string() : organisation};
}

void AggregateCells::Add(std::int64_t start_day, std::int64_t substance, std::string_view place,
                         std::int64_t n) {
  auto it = place_ids_.find(place);
  if (it == place_ids_.end()) {
    it = place_ids_.emplace(std::string(place), static_cast<std::int32_t>(places_.size())).first;
    places_.emplace_back(place);
  }
  // Ranges come grouped by period and substance: most cells repeat the previous substance.
  if (substance != last_substance_) {
    substances_.insert(substance);
    last_substance_ = substance;
  }
  cells_.push_back({static_cast<std::int32_t>(start_day), it->second, substance, n});
}

void AggregateCells::Absorb(const AggregateCells& other) {
  Reserve(other.cells_.size());
  for (const Cell& c : other.cells_) {
    Add(c.start_day, c.substance, other.places_[static_cast<std::size_t>(c.place)], c.n);
  }
}

std::vector<std::int64_t> AggregateCells::SubstanceIds() const {
  std::vector<std::int64_t> ids(substances_.begin(), substances_.end());
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<AggregateRow> AggregateCells::Merge(
    const std::unordered_map<std::int64_t, std::string>& key_of) const {
  // Substances and places replaced by their rank in the output's order, so that sorting
  // compares small integers.
  std::vector<std::int64_t> ids(substances_.begin(), substances_.end());
  std::sort(ids.begin(), ids.end(),
            [&](std::int64_t a, std::int64_t b) { return key_of.at(a) < key_of.at(b); });
  std::vector<const std::string*> keys;  // by rank
  std::unordered_map<std::int64_t, std::int32_t> substance_rank;
  substance_rank.reserve(ids.size());
  for (std::size_t r = 0; r < ids.size(); ++r) {
    keys.push_back(&key_of.at(ids[r]));
    substance_rank[ids[r]] = static_cast<std::int32_t>(r);
  }
  std::vector<std::int32_t> by_place(places_.size());
  for (std::size_t i = 0; i < by_place.size(); ++i) by_place[i] = static_cast<std::int32_t>(i);
  std::sort(by_place.begin(), by_place.end(),
            [&](std::int32_t a, std::int32_t b) { return places_[a] < places_[b]; });
  std::vector<std::int32_t> place_rank(places_.size());
  for (std::size_t r = 0; r < by_place.size(); ++r) {
    place_rank[static_cast<std::size_t>(by_place[r])] = static_cast<std::int32_t>(r);
  }
  struct Ranked {
    std::int32_t start_day, substance, place;
    std::int64_t n;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(cells_.size());
  for (const Cell& c : cells_) {
    ranked.push_back({c.start_day, substance_rank.at(c.substance),
                      place_rank[static_cast<std::size_t>(c.place)], c.n});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::tie(a.start_day, a.substance, a.place) <
           std::tie(b.start_day, b.substance, b.place);
  });
  std::vector<AggregateRow> rows;
  std::string day;
  std::int32_t day_of = 0;
  for (std::size_t i = 0; i < ranked.size();) {
    const Ranked& first = ranked[i];
    std::int64_t n = 0;
    std::size_t j = i;
    for (; j < ranked.size() && ranked[j].start_day == first.start_day &&
           ranked[j].substance == first.substance && ranked[j].place == first.place;
         ++j) {
      n += ranked[j].n;
    }
    if (n > 0) {
      if (day.empty() || day_of != first.start_day) {
        day = FormatDay(std::chrono::sys_days{std::chrono::days{first.start_day}});
        day_of = first.start_day;
      }
      AggregateRow row;
      row.period_start = day;
      row.substance_key = *keys[static_cast<std::size_t>(first.substance)];
      row.place =
          places_[static_cast<std::size_t>(by_place[static_cast<std::size_t>(first.place)])];
      row.reports = n;
      rows.push_back(std::move(row));
    }
    i = j;
  }
  return rows;
}

}  // namespace sentinel::reports
