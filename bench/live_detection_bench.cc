// Load on a running `sentinel serve` and the latency of live detection under it: how long after
// a report's acknowledgement its signal is readable at /api/v1/signals.
//
//   live_detection_bench URL REPORTER_TOKEN ANALYST_TOKEN [SECONDS] [CLIENTS] [NOVEL_EVERY] [RATE]
//
// CLIENTS threads post single reports for SECONDS, together at most RATE a second (0: as fast as
// the server answers): substances, countries, weeks and distribution
// levels as a national node sees them, so that every round of the live detector re-judges
// long series for every audience. Every NOVEL_EVERY-th report of each client names a substance
// the node has never seen, in the US: a sure first detection, whose signal a poller (a US
// analyst) watches for. Reports come in several forms, one in five names two substances and one
// in thirty is a precursor incident, one in forty a wastewater measurement, and four in five
// name a subdivision, so that every live detector (the space-time scan too) has work. bench/
// live_detection.sh runs it on the demo node beside the baseline.
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace chr = std::chrono;
using nlohmann::json;
using Clock = chr::steady_clock;

std::string Day(chr::sys_days day) {
  const chr::year_month_day d{day};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

struct Endpoint {
  std::string host;
  int port = 0;
};

Endpoint ParseUrl(const std::string& url) {
  const std::string rest = url.substr(url.find("//") + 2);
  const auto colon = rest.rfind(':');
  return {rest.substr(0, colon), std::atoi(rest.substr(colon + 1).c_str())};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s URL REPORTER_TOKEN ANALYST_TOKEN [SECONDS] [CLIENTS] [NOVEL_EVERY] "
                 "[RATE]\n",
                 argv[0]);
    return 2;
  }
  const Endpoint at = ParseUrl(argv[1]);
  const std::string reporter = argv[2], analyst = argv[3];
  const int seconds = argc > 4 ? std::atoi(argv[4]) : 20;
  const int clients = argc > 5 ? std::atoi(argv[5]) : 8;
  const int novel_every = argc > 6 ? std::atoi(argv[6]) : 10;
  const double rate = argc > 7 ? std::atof(argv[7]) : 0;
  const httplib::Headers post_auth = {{"Authorization", "Bearer " + reporter}};
  const httplib::Headers read_auth = {{"Authorization", "Bearer " + analyst}};
  const chr::sys_days today = chr::floor<chr::days>(chr::system_clock::now());

  const std::vector<std::string> substances = {"Fentanyl",        "Xylazine",     "Carfentanil",
                                               "Heroin",          "Bromazolam",   "Protonitazene",
                                               "Metonitazene",    "Cocaine",      "Methamphetamine",
                                               "MDMB-4en-PINACA", "Nitrous oxide"};
  const std::vector<std::string> countries = {"US", "CA", "GB", "DE", "FR", "NL", "AU", "MX"};
  const std::vector<std::string> forms = {"powder", "powder", "powder", "tablet",
                                          "tablet", "liquid", "herbal", "blotter"};
  const std::vector<std::string> chemicals = {"ANPP", "NPP", "4-AP", "1-boc-4-AP", "norfentanyl"};
  // Subdivisions of the countries (those the demo places), for the space-time scan.
  const std::map<std::string, std::vector<std::string>> subdivisions = {
      {"US", {"US-CA", "US-OH", "US-NY", "US-TX", "US-FL"}},
      {"CA", {"CA-BC", "CA-ON", "CA-AB"}},
      {"GB", {"GB-ENG", "GB-SCT", "GB-WLS"}},
      {"DE", {"DE-BE", "DE-BY", "DE-NW"}},
      {"FR", {"FR-IDF", "FR-PAC", "FR-HDF"}},
      {"NL", {"NL-NH", "NL-ZH", "NL-UT"}},
      {"AU", {"AU-NSW", "AU-VIC", "AU-QLD"}},
      {"MX", {"MX-BCN", "MX-SIN", "MX-CMX"}}};
  const std::vector<std::string> analytes = {"Benzoylecgonine", "Methamphetamine", "MDMA"};

  std::mutex mu;
  std::map<std::string, Clock::time_point> acked, seen;
  // Wastewater sites new to the node: place -> the first measurement's acknowledgement, and
  // when the site's first-load signal (judged by the loads worker) was seen.
  std::map<std::string, Clock::time_point> acked_sites, seen_sites;
  std::atomic<long> posted{0}, failed{0};
  std::atomic<bool> posting{true};
  Clock::time_point drain_deadline{};

  std::thread poller([&] {
    httplib::Client c(at.host, at.port);
    c.set_read_timeout(60, 0);
    std::int64_t after = 0;
    while (true) {
      const bool last_pass = !posting.load();
      auto res = c.Get(fmt::format("/api/v1/signals?detector=first&limit=1000&after={}", after),
                       read_auth);
      const auto now = Clock::now();
      if (res && res->status == 200) {
        const json page = json::parse(res->body, nullptr, false);
        if (page.is_object()) {
          after = page.value("next_after", after);
          std::lock_guard lock(mu);
          for (const json& s : page["signals"]) {
            const std::string place = s["place"].get<std::string>();
            if (place == "US" && s.contains("substance")) {  // (not a class's)
              seen.try_emplace(s["substance"]["name"].get<std::string>(), now);
            }
            if (place.find("/BENCH-") != std::string::npos) seen_sites.try_emplace(place, now);
          }
        }
      }
      if (last_pass) {
        std::lock_guard lock(mu);
        bool all = true;
        for (const auto& entry : acked) all = all && seen.count(entry.first);
        for (const auto& entry : acked_sites) all = all && seen_sites.count(entry.first);
        if (all || now > drain_deadline) break;
      }
      std::this_thread::sleep_for(chr::milliseconds(5));
    }
  });

  const auto start = Clock::now();
  const auto stop = start + chr::seconds(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c(at.host, at.port);
      c.set_read_timeout(60, 0);
      std::mt19937 rng(static_cast<unsigned>(t) * 7919U + 17U);
      // Each client keeps its share of the rate on a fixed schedule, so a slow answer does not
      // lower the offered load.
      const auto period =
          rate > 0 ? chr::duration<double>(clients / rate) : chr::duration<double>(0);
      for (int i = 0; Clock::now() < stop; ++i) {
        if (rate > 0) {
          std::this_thread::sleep_until(
              start +
              chr::duration_cast<Clock::duration>(period * (i + static_cast<double>(t) / clients)));
        }
        const bool novel = novel_every > 0 && i % novel_every == 0;
        const std::string name = novel ? fmt::format("Bench-novel-{}-{}-{}", ::getpid(), t, i)
                                       : substances[rng() % substances.size()];
        const std::string country = novel ? "US" : countries[rng() % countries.size()];
        json report = {{"kind", "seizure"},
                       {"idempotency_key", fmt::format("bench-{}-{}-{}", ::getpid(), t, i)},
                       {"distribution", novel || rng() % 2 ? "everyone" : "national"},
                       {"date", Day(today - chr::days{novel ? 0 : static_cast<int>(rng() % 21)})},
                       {"place", {{"country", country}}},
                       {"substances", {{{"name", name}}}},
                       {"form", forms[rng() % forms.size()]}};
        // Four in five name a subdivision (the scan is judged).
        if (!novel && rng() % 5 != 0) {
          const auto& these = subdivisions.at(country);
          report["place"]["subdivision"] = these[rng() % these.size()];
        }
        // One in five names a second substance (new combinations are judged); one in thirty
        // is a precursor incident instead (judged against its chemical's history), and one in
        // forty a wastewater measurement (judged as a load of its site).
        if (!novel && rng() % 5 == 0) {
          report["substances"].push_back({{"name", substances[rng() % substances.size()]}});
          if (report["substances"][0] == report["substances"][1]) report["substances"].erase(1);
        }
        if (!novel && rng() % 30 == 0) {
          report.erase("substances");
          report.erase("form");
          report["kind"] = "precursor_incident";
          report["chemical"] = {{"name", chemicals[rng() % chemicals.size()]}};
          report["quantity"] = {{"value", 1 + rng() % 500}, {"unit", "kg"}};
          report["route"] = {{"origin", "CN"},
                             {"destination", countries[rng() % countries.size()]}};
          report["status"] = "seized";
        } else if (!novel && rng() % 40 == 0) {
          report.erase("substances");
          report.erase("form");
          report["kind"] = "wastewater";
          report["site"] = fmt::format("BENCH-{}", rng() % 3);
          report["period"] = {{"start", report["date"]}, {"end", report["date"]}};
          report.erase("date");
          report["analyte"] = {{"name", analytes[rng() % analytes.size()]}};
          std::lognormal_distribution<double> load(5.0, 0.3);
          report["load_mg_per_1000_per_day"] = load(rng);
        }
        auto res = c.Post("/api/v1/reports", post_auth, report.dump(), "application/json");
        const auto now = Clock::now();
        if (!res || res->status != 201) {
          ++failed;
          continue;
        }
        ++posted;
        if (novel) {
          std::lock_guard lock(mu);
          acked[name] = now;
        }
        if (report["kind"] == "wastewater") {
          std::lock_guard lock(mu);
          acked_sites.try_emplace(fmt::format("{}/{}", country, report["site"].get<std::string>()),
                                  now);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = chr::duration<double>(Clock::now() - start).count();
  drain_deadline = Clock::now() + chr::seconds(30);
  posting = false;
  poller.join();

  // Latencies (sorted) of what was acknowledged and then seen; *missing counts the rest.
  const auto latencies = [](const std::map<std::string, Clock::time_point>& acknowledged,
                            const std::map<std::string, Clock::time_point>& appeared,
                            long* missing) {
    std::vector<double> ms;
    for (const auto& [name, when] : acknowledged) {
      const auto found = appeared.find(name);
      if (found == appeared.end()) {
        ++*missing;
        continue;
      }
      ms.push_back(chr::duration<double, std::milli>(std::max(found->second, when) - when).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms;
  };
  const auto percentile = [](const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0.0;
    return sorted[std::min(sorted.size() - 1,
                           static_cast<std::size_t>(q * static_cast<double>(sorted.size())))];
  };
  long missing = 0, missing_sites = 0;
  const std::vector<double> latency_ms = latencies(acked, seen, &missing);
  const std::vector<double> site_ms = latencies(acked_sites, seen_sites, &missing_sites);
  const auto pct = [&](double q) { return percentile(latency_ms, q); };
  std::printf("reports posted: %ld in %.1f s (%.0f/s, %d clients), %ld refused\n", posted.load(),
              elapsed, static_cast<double>(posted.load()) / elapsed, clients, failed.load());
  std::printf(
      "first detections watched: %zu, signal after acknowledgement: p50 %.0f ms, p95 %.0f "
      "ms, p99 %.0f ms, max %.0f ms; %ld never seen\n",
      latency_ms.size(), pct(0.5), pct(0.95), pct(0.99),
      latency_ms.empty() ? 0.0 : latency_ms.back(), missing);
  std::printf(
      "new wastewater sites watched (loads worker): %zu, first-load signal after "
      "acknowledgement: p50 %.0f ms, p99 %.0f ms, max %.0f ms; %ld never seen\n",
      site_ms.size(), percentile(site_ms, 0.5), percentile(site_ms, 0.99),
      site_ms.empty() ? 0.0 : site_ms.back(), missing_sites);
  std::printf("p99_ms=%.1f\n", pct(0.99));
  return missing == 0 && failed.load() == 0 ? 0 : 1;
}
