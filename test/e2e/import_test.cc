// End to end: `sentinel import` loads CSV and JSON Lines with the API's validation, names each
// bad row without stopping, and stores nothing twice when run again; on both backends.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test/store/backends.h"
#include "test/store/postgres_cluster.h"
#include "test/support/server_process.h"

namespace sentinel {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;

CommandResult Sentinel(const std::string& args, const fs::path& dir) {
  return test::SentinelCommand(args, dir);
}

class Import : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Backends, Import, ::testing::ValuesIn(test::Backends()),
                         [](const auto& backend) { return backend.param; });

TEST_P(Import, CsvAndJsonLinesWithPerRowErrorsIdempotently) {
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("sentinel-import-{}-{}", GetParam(), getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string db = (dir / "node.db").string();
  std::string key;
  if (GetParam() == "postgresql") {
    auto url = test::CreatePostgresTestDatabase("import_e2e");
    if (!url.ok()) GTEST_SKIP() << url.status().ToString();
    db = *url;
    key = fmt::format(" --key-file '{}'", (dir / "node.key").string());
  }
  ASSERT_EQ(
      Sentinel(fmt::format("admin organisation --db '{}' --id lab-oh --country US", db), dir).code,
      0);

  const fs::path csv = dir / "history.csv";
  std::ofstream(csv) << "kind,idempotency_key,distribution,date,place.country,place.subdivision,"
                        "substances[0].name,substances[0].purity_percent,substances[1].name,form\n"
                        "seizure,c1,everyone,2026-01-05,US,US-OH,Fentanyl,12.5,Xylazine,powder\n"
                        "seizure,c2,national,2026-01-06,US,US-WV,Heroin,,,powder\n"
                        "seizure,c3,everyone,2026-13-01,US,US-OH,Fentanyl,,,powder\n"
                        "seizure,c4,everyone,2026-01-07,US,US-OH,Fentanyl,pure,,powder\n"
                        "seizure,c5,everyone,2026-01-08,US,,Carfentanil,,,tablet\n";
  const fs::path jsonl = dir / "more.jsonl";
  std::ofstream(jsonl)
      << R"({"kind":"wastewater","idempotency_key":"w1","distribution":"everyone","site":"OH-01","period":{"start":"2026-01-01","end":"2026-01-07"},"place":{"country":"US","subdivision":"US-OH"},"analyte":{"name":"Xylazine"},"load_mg_per_1000_per_day":4.2})"
      << "\n{not json\n"
      << R"({"kind":"seizure","idempotency_key":"j2","distribution":"everyone","date":"2026-01-09","place":{"country":"US"},"substances":[{"name":"Fentanyl"}],"form":"powder","notes":"ask j.smith@example.org"})"
      << "\n"
      // Valid, but its key is c1's with another body: it fails the batch it is in, whose
      // other rows are still stored.
      << R"({"kind":"seizure","idempotency_key":"c1","distribution":"everyone","date":"2026-01-10","place":{"country":"US"},"substances":[{"name":"Heroin"}],"form":"powder"})"
      << "\n";

  const std::string import =
      fmt::format("import --db '{}'{} --organisation lab-oh --no-progress '{}' '{}'", db, key,
                  csv.string(), jsonl.string());
  CommandResult first = Sentinel(import, dir);
  // Four rows stored, five refused, each named by file, line and field.
  EXPECT_EQ(first.code, 1) << first.err;
  EXPECT_EQ(first.out, "imported 4 reports (0 already stored, 5 rejected)\n") << first.err;
  EXPECT_NE(first.err.find("history.csv:4: $.date"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("history.csv:5: $.substances[0].purity_percent"), std::string::npos)
      << first.err;
  EXPECT_NE(first.err.find("more.jsonl:2: $: not valid JSON"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("more.jsonl:3: $.notes"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("more.jsonl:4: $: idempotency key 'c1' was already used"),
            std::string::npos)
      << first.err;

  // Again: every good row is already stored, none twice.
  CommandResult second = Sentinel(import, dir);
  EXPECT_EQ(second.out, "imported 0 reports (4 already stored, 5 rejected)\n") << second.err;

  auto store = test::OpenExisting(GetParam(), db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->CountReports(), 4);
  reports::ReportQuery q;
  q.substance = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1";  // fentanyl's key
  auto page = (*store)->Query(reports::NodeAdministrator(), q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->reports.size(), 1u);
  EXPECT_TRUE((*store)->CheckIntegrity().ok());
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sentinel
