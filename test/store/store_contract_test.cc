// The store contract (core/reports/store.h), run against every backend.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <map>
#include <thread>

#include "adapters/sqlite/sqlite_store.h"
#include "core/reports/store.h"
#include "test/store/backends.h"
#include "test/store/report_fixtures.h"

namespace sentinel::reports {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

using test_fixtures::Mention;
using test_fixtures::Seizure;

const char* kFentanyl = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1";
const char* kXylazine = "Cc1cccc(C)c1NC1=NCCCS1";

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto store = test::OpenBackend(GetParam(),
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    if (!store.ok()) GTEST_SKIP() << store.status().ToString();
    store_ = std::move(store).value();
    const Principal admin = NodeAdministrator();
    ASSERT_TRUE(store_->PutOrganisation(admin, {"lab-us", "US lab", "US", {"north-america"}}).ok());
    ASSERT_TRUE(store_->PutOrganisation(admin, {"ed-us", "US ED", "US", {}}).ok());
    ASSERT_TRUE(store_->PutOrganisation(admin, {"lab-ca", "CA lab", "CA", {"north-america"}}).ok());
    ASSERT_TRUE(store_->PutOrganisation(admin, {"lab-gb", "GB lab", "GB", {}}).ok());
    lab_us_ = Who("lab-us", "US", {"north-america"}, Role::kReporter);
    ed_us_ = Who("ed-us", "US", {}, Role::kReader);
    lab_ca_ = Who("lab-ca", "CA", {"north-america"}, Role::kReporter);
    lab_gb_ = Who("lab-gb", "GB", {}, Role::kReporter);
  }
  static Principal Who(std::string org, std::string country, std::vector<std::string> groups,
                       Role role) {
    Principal p;
    p.organisation = std::move(org);
    p.country = std::move(country);
    p.trusted_groups = std::move(groups);
    p.role = role;
    p.user = "tester";
    return p;
  }
  SubmitOutcome SubmitOne(const Principal& who, Report r, std::vector<ResolvedMention> m) {
    std::vector<SubmitOutcome> out;
    SubmitItem item{std::move(r), std::move(m), ""};
    Status s = store_->Submit(who, {item}, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out.empty() ? SubmitOutcome{} : out[0];
  }
  std::unique_ptr<Store> store_;
  Principal lab_us_, ed_us_, lab_ca_, lab_gb_;
};

TEST_P(StoreContract, SubmitThenGetAndIdempotentReplay) {
  auto first =
      SubmitOne(lab_us_, Seizure("k1", "2026-03-02", "US", "US-OH", Distribution::kEveryone),
                {Mention("Fentanyl", kFentanyl)});
  EXPECT_FALSE(first.duplicate);
  EXPECT_EQ(first.version, 1);
  auto again =
      SubmitOne(lab_us_, Seizure("k1", "2026-03-02", "US", "US-OH", Distribution::kEveryone),
                {Mention("Fentanyl", kFentanyl)});
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(store_->CountReports(), 1);
  // The same key for a different report is a client error, not a silent replay.
  std::vector<SubmitOutcome> out;
  Report changed = Seizure("k1", "2026-03-03", "US", "US-OH", Distribution::kEveryone);
  EXPECT_EQ(store_->Submit(lab_us_, {{changed, {Mention("Fentanyl", kFentanyl)}, ""}}, &out).code(),
            Status::Code::kConflict);
  EXPECT_EQ(store_->CountReports(), 1);
  // The same key from another organisation is another report.
  auto other = SubmitOne(lab_ca_, Seizure("k1", "2026-03-02", "CA", "", Distribution::kEveryone),
                         {Mention("Fentanyl", kFentanyl)});
  EXPECT_FALSE(other.duplicate);
  EXPECT_NE(other.id, first.id);
  auto got = store_->Get(lab_gb_, first.id, 0);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->organisation, "lab-us");
  EXPECT_EQ(got->date, "2026-03-02");
  EXPECT_EQ(got->subdivision, "US-OH");
  ASSERT_EQ(got->substance_keys.size(), 1u);
  EXPECT_EQ(got->substance_keys[0], kFentanyl);
  EXPECT_EQ(got->body["idempotency_key"], "k1");
}

TEST_P(StoreContract, BatchIsAllOrNothing) {
  SubmitItem good{Seizure("b1", "2026-03-02", "US", "", Distribution::kEveryone),
                  {Mention("Fentanyl", kFentanyl)},
                  ""};
  SubmitItem bad = good;
  bad.report.idempotency_key = "b2";
  bad.supersedes = "r-does-not-exist";  // fails inside the transaction
  std::vector<SubmitOutcome> out;
  Status s = store_->Submit(lab_us_, {good, bad}, &out);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->CountReports(), 0);
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_P(StoreContract, DistributionLevels) {
  SubmitOne(lab_us_, Seizure("o", "2026-01-05", "US", "", Distribution::kOrganisation),
            {Mention("Fentanyl", kFentanyl)});
  SubmitOne(lab_us_, Seizure("n", "2026-01-05", "US", "", Distribution::kNational),
            {Mention("Fentanyl", kFentanyl)});
  SubmitOne(lab_us_, Seizure("t", "2026-01-05", "US", "", Distribution::kTrustedGroup),
            {Mention("Fentanyl", kFentanyl)});
  SubmitOne(lab_us_, Seizure("e", "2026-01-05", "US", "", Distribution::kEveryone),
            {Mention("Fentanyl", kFentanyl)});
  auto count = [&](const Principal& viewer) {
    ReportQuery q;
    auto page = store_->Query(viewer, q);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->reports.size() : 0u;
  };
  EXPECT_EQ(count(lab_us_), 4u);  // its own
  EXPECT_EQ(count(ed_us_), 2u);   // national + everyone
  EXPECT_EQ(count(lab_ca_), 2u);  // trusted group + everyone
  EXPECT_EQ(count(lab_gb_), 1u);  // everyone
  // The rule holds for aggregates and substance pages too.
  AggregateQuery a;
  auto rows = store_->Aggregate(lab_gb_, a);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].reports, 1);
  for (const auto& [viewer, seen] : {std::pair{lab_us_, 4}, {ed_us_, 2}, {lab_ca_, 2}}) {
    auto weekly = store_->Aggregate(viewer, a);
    ASSERT_TRUE(weekly.ok());
    ASSERT_EQ(weekly->size(), 1u) << viewer.organisation;
    EXPECT_EQ((*weekly)[0].reports, seen) << viewer.organisation;
  }
  auto page = store_->Substance(ed_us_, kFentanyl);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->reports, 2);
  EXPECT_EQ(store_->Get(lab_gb_, "nope", 0).status().code(), Status::Code::kNotFound);
}

// National visibility follows the country the organisation filed from; the organisation
// itself keeps seeing its own reports after it moves.
TEST_P(StoreContract, AnOrganisationThatMovesStillSeesItsOwnNationalReports) {
  SubmitOne(lab_us_, Seizure("n", "2026-01-05", "US", "", Distribution::kNational),
            {Mention("Fentanyl", kFentanyl)});
  Principal moved = lab_us_;
  moved.country = "CA";
  ASSERT_TRUE(
      store_->PutOrganisation(NodeAdministrator(), {"lab-us", "lab", "CA", {"north-america"}})
          .ok());
  SubmitOne(moved, Seizure("n2", "2026-01-06", "US", "", Distribution::kNational),
            {Mention("Fentanyl", kFentanyl)});
  const Principal ed_ca = Who("ed-ca", "CA", {}, Role::kReader);
  AggregateQuery a;
  const auto total = [&](const Principal& viewer) {
    auto rows = store_->Aggregate(viewer, a);
    EXPECT_TRUE(rows.ok());
    std::int64_t n = 0;
    for (const auto& row : rows.ok() ? *rows : std::vector<AggregateRow>{}) n += row.reports;
    return n;
  };
  EXPECT_EQ(total(moved), 2);   // both its own
  EXPECT_EQ(total(ed_us_), 1);  // filed from the US
  EXPECT_EQ(total(ed_ca), 1);   // filed from Canada
  EXPECT_EQ(total(lab_gb_), 0);
}

TEST_P(StoreContract, CorrectionsSupersedeAndStayReadable) {
  auto v1 = SubmitOne(lab_us_, Seizure("c1", "2026-02-10", "US", "US-OH", Distribution::kEveryone),
                      {Mention("Fentanyl", kFentanyl)});
  SubmitItem fix{Seizure("c1-fix", "2026-02-10", "US", "US-OH", Distribution::kEveryone),
                 {Mention("Fentanyl", kFentanyl), Mention("Xylazine", kXylazine)},
                 v1.id};
  std::vector<SubmitOutcome> out;
  ASSERT_TRUE(store_->Submit(lab_us_, {fix}, &out).ok());
  EXPECT_EQ(out[0].id, v1.id);
  EXPECT_EQ(out[0].version, 2);
  auto latest = store_->Get(ed_us_, v1.id, 0);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->substance_keys.size(), 2u);
  auto old = store_->Get(ed_us_, v1.id, 1);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->latest);
  ReportQuery q;
  EXPECT_EQ(store_->Query(ed_us_, q)->reports.size(), 1u);
  q.all_versions = true;
  EXPECT_EQ(store_->Query(ed_us_, q)->reports.size(), 2u);
  // Aggregates count the correction only.
  AggregateQuery a;
  a.substance = kFentanyl;
  auto rows = store_->Aggregate(ed_us_, a);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].reports, 1);
  EXPECT_EQ((*rows)[0].period_start, "2026-02-09");  // the Monday
  // Only the source corrects; another organisation's attempt is refused.
  SubmitItem foreign = fix;
  foreign.report.idempotency_key = "c1-foreign";
  foreign.supersedes = v1.id;
  EXPECT_EQ(store_->Submit(lab_ca_, {foreign}, &out).code(), Status::Code::kNotFound);
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_P(StoreContract, QueryFiltersAndStableCursor) {
  for (int i = 0; i < 25; ++i) {
    const std::string date = FormatDay(ParseDay("2025-12-01").value() + std::chrono::days{i * 3});
    const bool ohio = i % 2 == 0;
    SubmitOne(lab_us_,
              Seizure("q" + std::to_string(i), date, "US", ohio ? "US-OH" : "US-WV",
                      Distribution::kEveryone),
              {i % 5 == 0 ? Mention("Xylazine", kXylazine, {"alpha-2 agonist"})
                          : Mention("Fentanyl", kFentanyl, {"fentanyl-related"})});
  }
  ReportQuery q;
  q.place = "US-OH";
  EXPECT_EQ(store_->Query(ed_us_, q)->reports.size(), 13u);
  q.place = "US";  // a country covers all its subdivisions
  EXPECT_EQ(store_->Query(ed_us_, q)->reports.size(), 25u);
  q.substance_class = "alpha-2 agonist";
  EXPECT_EQ(store_->Query(ed_us_, q)->reports.size(), 5u);
  q = {};
  q.from = "2026-01-01";
  q.to = "2026-01-31";
  auto jan = store_->Query(ed_us_, q);
  for (const auto& r : jan->reports) EXPECT_TRUE(r.date >= "2026-01-01" && r.date <= "2026-01-31");
  EXPECT_EQ(jan->reports.size(), 10u);  // 3 Jan to 30 Jan, every third day
  // Paging: 7 at a time, newest first, no report twice, none lost — even when new reports
  // arrive between pages.
  q = {};
  q.limit = 7;
  std::set<std::string> seen;
  std::int64_t last_seq = std::numeric_limits<std::int64_t>::max();
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store_->Query(ed_us_, q);
    ASSERT_TRUE(page.ok());
    for (const auto& r : page->reports) {
      EXPECT_TRUE(seen.insert(r.id).second);
      EXPECT_LT(r.sequence, last_seq);
      last_seq = r.sequence;
    }
    if (pages == 0) {
      SubmitOne(lab_us_, Seizure("late", "2026-03-01", "US", "", Distribution::kEveryone),
                {Mention("Fentanyl", kFentanyl)});
    }
    if (!page->next_before_sequence) break;
    q.before_sequence = page->next_before_sequence;
  }
  EXPECT_EQ(seen.size(), 25u);
}

TEST_P(StoreContract, QueryByFormAndBySecondSubstance) {
  for (int i = 0; i < 9; ++i) {
    Report r = Seizure("form" + std::to_string(i), "2026-01-0" + std::to_string(i + 1), "US", "",
                       Distribution::kEveryone);
    r.form = i % 3 == 0 ? "tablet" : "powder";
    r.body["form"] = r.form;
    SubmitOne(lab_us_, std::move(r), {Mention("Fentanyl", kFentanyl)});
  }
  ReportQuery q;
  q.form = "tablet";
  auto tablets = store_->Query(ed_us_, q);
  ASSERT_TRUE(tablets.ok()) << tablets.status().ToString();
  ASSERT_EQ(tablets->reports.size(), 3u);
  for (const auto& r : tablets->reports) EXPECT_EQ(r.body["form"], "tablet");
  q.to = "2026-01-06";  // with the other filters: tablets on 1 and 4 January
  q.substance = kFentanyl;
  EXPECT_EQ(store_->Query(ed_us_, q)->reports.size(), 2u);
  q.form = "blotter";
  EXPECT_TRUE(store_->Query(ed_us_, q)->reports.empty());
  // Reports naming a second substance as well.
  Report mixed = Seizure("mixed", "2026-01-03", "US", "", Distribution::kEveryone);
  SubmitOne(lab_us_, std::move(mixed),
            {Mention("Fentanyl", kFentanyl), Mention("Xylazine", kXylazine)});
  q = {};
  q.substance = kFentanyl;
  q.also_substance = kXylazine;
  auto both = store_->Query(ed_us_, q);
  ASSERT_EQ(both->reports.size(), 1u);
  EXPECT_EQ(both->reports[0].substance_keys.size(), 2u);
  q.to = "2026-01-02";
  EXPECT_TRUE(store_->Query(ed_us_, q)->reports.empty());

  // The earliest seizure by form, and report together, as live detection reads them.
  auto in_form = store_->FirstSeizuresInForm({kFentanyl});
  ASSERT_TRUE(in_form.ok()) << in_form.status().ToString();
  std::map<std::string, std::int64_t> first_day;
  for (const auto& row : *in_form) {
    EXPECT_EQ(row.substance_key, kFentanyl);
    EXPECT_EQ(row.org_country, "US");
    first_day[row.form] = row.first_day;
  }
  EXPECT_EQ(first_day["tablet"], DayNumber(ParseDay("2026-01-01").value()));
  EXPECT_EQ(first_day["powder"], DayNumber(ParseDay("2026-01-02").value()));
  auto together = store_->FirstReportsTogether({kXylazine});
  ASSERT_TRUE(together.ok()) << together.status().ToString();
  ASSERT_EQ(together->size(), 1u);
  EXPECT_EQ((*together)[0].partner_key, kFentanyl);
  EXPECT_EQ((*together)[0].first_day, DayNumber(ParseDay("2026-01-03").value()));
}

TEST_P(StoreContract, WeeklyAndMonthlyAggregates) {
  // Two reports in ISO week 2026-W10 (Mon 2 March), one the next week; Ohio and West Virginia.
  SubmitOne(lab_us_, Seizure("a1", "2026-03-02", "US", "US-OH", Distribution::kEveryone),
            {Mention("Fentanyl", kFentanyl), Mention("Xylazine", kXylazine)});
  SubmitOne(lab_us_, Seizure("a2", "2026-03-08", "US", "US-WV", Distribution::kEveryone),
            {Mention("Fentanyl", kFentanyl), Mention("Fentanyl", kFentanyl)});
  SubmitOne(lab_us_, Seizure("a3", "2026-03-09", "US", "US-OH", Distribution::kEveryone),
            {Mention("Fentanyl", kFentanyl)});
  AggregateQuery a;
  a.substance = kFentanyl;
  auto weekly = store_->Aggregate(ed_us_, a);
  ASSERT_TRUE(weekly.ok());
  ASSERT_EQ(weekly->size(), 2u);
  EXPECT_EQ((*weekly)[0].period_start, "2026-03-02");
  EXPECT_EQ((*weekly)[0].place, "US");
  EXPECT_EQ((*weekly)[0].reports, 2);  // a report naming fentanyl twice counts once
  EXPECT_EQ((*weekly)[1].reports, 1);
  a.by_subdivision = true;
  EXPECT_EQ(store_->Aggregate(ed_us_, a)->size(), 3u);
  a.period = Period::kMonth;
  a.by_subdivision = false;
  auto monthly = store_->Aggregate(ed_us_, a);
  ASSERT_EQ(monthly->size(), 1u);
  EXPECT_EQ((*monthly)[0].period_start, "2026-03-01");
  EXPECT_EQ((*monthly)[0].reports, 3);
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_P(StoreContract, TokensAuthenticateAndRevoke) {
  TokenRecord t{0, "lab-us", "analyst-1", Role::kAnalyst};
  auto id = store_->CreateToken(NodeAdministrator(), "hash-1", t);
  ASSERT_TRUE(id.ok());
  auto who = store_->Authenticate("hash-1");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->organisation, "lab-us");
  EXPECT_EQ(who->country, "US");
  EXPECT_EQ(who->role, Role::kAnalyst);
  EXPECT_EQ(who->trusted_groups, std::vector<std::string>{"north-america"});
  EXPECT_EQ(store_->Authenticate("hash-2").status().code(), Status::Code::kUnauthenticated);
  // Least privilege: a reporter cannot make tokens; an admin only for its own organisation.
  EXPECT_EQ(store_->CreateToken(lab_us_, "hash-3", t).status().code(),
            Status::Code::kPermissionDenied);
  Principal gb_admin = lab_gb_;
  gb_admin.role = Role::kAdmin;
  EXPECT_EQ(store_->CreateToken(gb_admin, "hash-4", t).status().code(),
            Status::Code::kPermissionDenied);
  EXPECT_EQ(store_->Submit(ed_us_, {}, nullptr).code(), Status::Code::kPermissionDenied);
  ASSERT_TRUE(store_->RevokeToken(NodeAdministrator(), *id).ok());
  EXPECT_EQ(store_->Authenticate("hash-1").status().code(), Status::Code::kUnauthenticated);
  // Every write is audited.
  auto audit = store_->Audit(NodeAdministrator(), 0, 100);
  ASSERT_TRUE(audit.ok());
  std::vector<std::string> actions;
  for (const auto& e : *audit) actions.push_back(e.action);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "token.create"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "token.revoke"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "organisation.put"), 4);
  EXPECT_EQ(store_->Audit(lab_us_, 0, 10).status().code(), Status::Code::kPermissionDenied);
}

TEST_P(StoreContract, RevokingTwiceIsAConflict) {
  auto token = store_->CreateToken(NodeAdministrator(), "hash", {0, "lab-us", "u", Role::kReader});
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(store_->RevokeToken(NodeAdministrator(), *token).ok());
  EXPECT_EQ(store_->RevokeToken(NodeAdministrator(), *token).code(), Status::Code::kConflict);
  EXPECT_EQ(store_->RevokeToken(NodeAdministrator(), *token + 1).code(), Status::Code::kNotFound);
  // Another organisation's token reads as absent, revoked or not.
  Principal gb_admin = lab_gb_;
  gb_admin.role = Role::kAdmin;
  EXPECT_EQ(store_->RevokeToken(gb_admin, *token).code(), Status::Code::kNotFound);
}

TEST_P(StoreContract, RepeatedGroupIsOneMembership) {
  ASSERT_TRUE(store_
                  ->PutOrganisation(NodeAdministrator(),
                                    {"lab-mx", "MX lab", "MX", {"north-america", "north-america"}})
                  .ok());
  auto o = store_->GetOrganisation("lab-mx");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->trusted_groups, std::vector<std::string>{"north-america"});
}

TEST_P(StoreContract, ExactKeyWinsOverAName) {
  // A substance whose name is another one's key: asking by that key finds the keyed one.
  Report a = Seizure("k-a", "2026-02-02", "US", "", Distribution::kEveryone);
  Report b = Seizure("k-b", "2026-02-03", "US", "", Distribution::kEveryone);
  SubmitOne(lab_us_, a, {Mention("Fentanyl", kFentanyl)});
  ResolvedMention odd = Mention("name-clash", kXylazine);
  std::const_pointer_cast<SubstanceRecord>(odd.substance)->name = kFentanyl;
  SubmitOne(lab_us_, b, {odd});
  auto by_key = store_->Substance(lab_us_, kFentanyl);
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  EXPECT_EQ(by_key->substance.key, kFentanyl);
  EXPECT_EQ(by_key->substance.name, "Fentanyl");
}

TEST_P(StoreContract, BadDatesInAQueryAreRefused) {
  ReportQuery q;
  q.from = "yesterday";
  EXPECT_EQ(store_->Query(lab_us_, q).status().code(), Status::Code::kInvalidArgument);
  q.from.reset();
  q.to = "2026-02-30";
  EXPECT_EQ(store_->Query(lab_us_, q).status().code(), Status::Code::kInvalidArgument);
}

TEST_P(StoreContract, SubmitWithoutOutcomesStillStores) {
  SubmitItem item{Seizure("no-outcomes", "2026-02-02", "US", "", Distribution::kEveryone),
                  {Mention("Fentanyl", kFentanyl)},
                  ""};
  ASSERT_TRUE(store_->Submit(lab_us_, {item}, nullptr).ok());
  auto page = store_->Query(lab_us_, {});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->reports.size(), 1u);
}

TEST_P(StoreContract, ConcurrentSubmittersLoseNothing) {
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::vector<SubmitOutcome> out;
        SubmitItem item{Seizure(fmt::format("t{}-{}", t, i), "2026-03-02", "US", "US-OH",
                                Distribution::kEveryone),
                        {Mention("Fentanyl", kFentanyl)},
                        ""};
        if (!store_->Submit(lab_us_, {item}, &out).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->CountReports(), kThreads * kEach);
  auto page = store_->Substance(lab_us_, kFentanyl);
  EXPECT_EQ(page->reports, kThreads * kEach);
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::ValuesIn(test::Backends()),
                         [](const auto& backend) { return backend.param; });

// Live detection's reads and writes: counts split by who may see them (organisation and
// trusted-group reports left out), signals upserted by key with a new sequence per change, and
// each country's analysts seeing their own audience only.
// A class counts reports, each once however many of its substances the report names; only
// what a signal's audience may be shown, latest versions, occurrences.
TEST_P(StoreContract, ClassCountsCountEachReportOnce) {
  const char* kAcetylfentanyl = "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1";
  const auto fentanyl = [] { return Mention("Fentanyl", kFentanyl, {"fentanyl-related"}); };
  const auto xylazine = [] { return Mention("Xylazine", kXylazine, {"alpha-2 agonist"}); };
  SubmitOne(lab_us_, Seizure("two", "2026-01-07", "US", "US-OH", Distribution::kNational),
            {fentanyl(), Mention("Acetylfentanyl", kAcetylfentanyl, {"fentanyl-related"})});
  SubmitOne(lab_us_, Seizure("own", "2026-01-08", "US", "", Distribution::kOrganisation),
            {fentanyl()});
  auto wrong = SubmitOne(lab_gb_, Seizure("e", "2026-01-14", "GB", "", Distribution::kEveryone),
                         {xylazine()});
  SubmitItem fix{Seizure("e-fix", "2026-01-14", "GB", "", Distribution::kEveryone),
                 {fentanyl(), xylazine()},
                 wrong.id};
  std::vector<SubmitOutcome> out;
  ASSERT_TRUE(store_->Submit(lab_gb_, {fix}, &out).ok());
  Report measured = Seizure("w", "2026-01-21", "US", "US-OH", Distribution::kEveryone);
  measured.kind = Kind::kWastewater;
  measured.form.clear();
  SubmitOne(lab_us_, measured, {fentanyl()});

  const auto day = [](const char* d) { return DayNumber(sys_days{ParseDay(d).value()}); };
  auto counts = store_->ClassCountsOf({"fentanyl-related", "alpha-2 agonist", "no-such-class"},
                                      std::numeric_limits<std::int64_t>::min());
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  ASSERT_TRUE(counts->first_week_start.has_value());
  EXPECT_EQ(*counts->first_week_start, day("2026-01-05"));
  std::map<std::string, DetectionCountRow> by;  // "<class>@<country>" -> row
  for (const DetectionCountRow& row : counts->rows) {
    EXPECT_TRUE(by.emplace(row.substance_key + "@" + row.country, row).second)
        << row.substance_key << "@" << row.country << " twice";
  }
  ASSERT_EQ(by.size(), 3u) << "fentanyl-related in the US and GB, alpha-2 agonist in GB";
  const DetectionCountRow& us = by.at("fentanyl-related@US");
  EXPECT_EQ(us.reports, 1) << "one report of two fentanyls is one fentanyl occurrence";
  EXPECT_EQ(us.week_start, day("2026-01-05"));
  EXPECT_EQ(us.subdivision, "US-OH");
  EXPECT_EQ(us.org_country, "US");
  EXPECT_EQ(us.distribution, Distribution::kNational);
  EXPECT_EQ(by.at("fentanyl-related@GB").reports, 1) << "the correction names fentanyl";
  EXPECT_EQ(by.at("fentanyl-related@GB").week_start, day("2026-01-12"));
  EXPECT_EQ(by.at("alpha-2 agonist@GB").reports, 1) << "the first version is not counted again";
  EXPECT_EQ(by.at("alpha-2 agonist@GB").distribution, Distribution::kEveryone);

  auto later = store_->ClassCountsOf({"fentanyl-related"}, day("2026-01-12"));
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->rows.size(), 1u) << "the weeks from 2026-01-12: GB's";
  EXPECT_EQ(later->rows[0].country, "GB");
  // This week's reports: a live round's read (SQLite reads recent days by date).
  const sys_days today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::string this_week =
      FormatDay(today - (std::chrono::weekday(today) - std::chrono::Monday));
  SubmitOne(lab_us_, Seizure("now", this_week, "US", "", Distribution::kEveryone),
            {fentanyl(), Mention("Acetylfentanyl", kAcetylfentanyl, {"fentanyl-related"})});
  auto recent = store_->ClassCountsOf({"fentanyl-related"}, day(this_week.c_str()));
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->rows.size(), 1u);
  EXPECT_EQ(recent->rows[0].reports, 1);
  EXPECT_EQ(recent->rows[0].week_start, day(this_week.c_str()));
  auto none = store_->ClassCountsOf({}, day("2026-01-12"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->rows.empty());
}

TEST_P(StoreContract, DetectionCountsAndSignals) {
  SubmitOne(lab_us_, Seizure("o", "2026-01-05", "US", "", Distribution::kOrganisation),
            {Mention("Fentanyl", kFentanyl)});
  SubmitOne(lab_us_, Seizure("t", "2026-01-06", "US", "", Distribution::kTrustedGroup),
            {Mention("Fentanyl", kFentanyl)});
  SubmitOne(lab_us_, Seizure("n", "2026-01-07", "US", "", Distribution::kNational),
            {Mention("Fentanyl", kFentanyl)});
  SubmitOne(lab_gb_, Seizure("e", "2026-01-14", "GB", "", Distribution::kEveryone),
            {Mention("Fentanyl", kFentanyl), Mention("Xylazine", kXylazine)});
  auto counts = store_->DetectionCountsOf(
      {kFentanyl, "no-such-key"}, std::numeric_limits<std::int64_t>::min(), Counted::kOccurrences);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  ASSERT_TRUE(counts->first_week_start.has_value());
  EXPECT_EQ(*counts->first_week_start, DayNumber(sys_days{ParseDay("2026-01-05").value()}));
  ASSERT_EQ(counts->rows.size(), 2u);
  int us = 0, gb = 0;
  for (const DetectionCountRow& row : counts->rows) {
    EXPECT_EQ(row.substance_key, kFentanyl);
    EXPECT_EQ(row.reports, 1);
    if (row.country == "US") {
      ++us;
      EXPECT_EQ(row.distribution, Distribution::kNational);
      EXPECT_EQ(row.org_country, "US");
      EXPECT_TRUE(SignalAudienceSees("US", row));
      EXPECT_FALSE(SignalAudienceSees("GB", row));
    } else {
      ++gb;
      EXPECT_EQ(row.week_start, DayNumber(sys_days{ParseDay("2026-01-12").value()}));
      EXPECT_TRUE(SignalAudienceSees("US", row) && SignalAudienceSees("CA", row));
    }
  }
  EXPECT_EQ(us, 1);
  EXPECT_EQ(gb, 1);
  // A wastewater measurement of Fentanyl is no occurrence; it counts among measurements, with
  // its subdivision and who may see it.
  Report measured = Seizure("w", "2026-01-21", "US", "US-OH", Distribution::kNational);
  measured.kind = Kind::kWastewater;
  measured.form.clear();
  SubmitOne(lab_us_, measured, {Mention("Fentanyl", kFentanyl)});
  auto occurrences = store_->DetectionCountsOf(
      {kFentanyl}, std::numeric_limits<std::int64_t>::min(), Counted::kOccurrences);
  ASSERT_TRUE(occurrences.ok());
  EXPECT_EQ(occurrences->rows.size(), 2u) << "the wastewater measurement is not an occurrence";
  auto measurements = store_->DetectionCountsOf(
      {kFentanyl}, std::numeric_limits<std::int64_t>::min(), Counted::kMeasurements);
  ASSERT_TRUE(measurements.ok());
  ASSERT_EQ(measurements->rows.size(), 1u);
  EXPECT_EQ(measurements->rows[0].subdivision, "US-OH");
  EXPECT_EQ(measurements->rows[0].org_country, "US");
  EXPECT_EQ(measurements->rows[0].distribution, Distribution::kNational);
  EXPECT_EQ(measurements->rows[0].week_start, DayNumber(sys_days{ParseDay("2026-01-19").value()}));
  auto later = store_->DetectionCountsOf({kFentanyl, kXylazine},
                                         DayNumber(sys_days{ParseDay("2026-01-12").value()}),
                                         Counted::kOccurrences);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->rows.size(), 2u) << "the weeks from 2026-01-12: GB's Fentanyl and Xylazine";

  const auto signal = [](std::string audience, std::string first, std::string last, int alarms) {
    SignalRecord r;
    r.audience = std::move(audience);
    r.detector = "noufaily";
    r.substance_key = kFentanyl;
    r.place = "US";
    r.first_week = std::move(first);
    r.last_week = std::move(last);
    r.body = {{"alarms", alarms}};
    return r;
  };
  ASSERT_TRUE(store_
                  ->PutSignals({signal("US", "2026-01-05", "2026-01-05", 1),
                                signal("GB", "2026-01-05", "2026-01-05", 1)})
                  .ok());
  ASSERT_TRUE(store_->PutSignals({signal("US", "2026-01-05", "2026-01-12", 2)}).ok());
  auto seen = store_->Signals(ed_us_, {});
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  ASSERT_EQ(seen->size(), 1u) << "an update is not a new signal";
  EXPECT_EQ((*seen)[0].last_week, "2026-01-12");
  EXPECT_EQ((*seen)[0].body["alarms"], 2);
  EXPECT_EQ((*seen)[0].audience, "US");
  EXPECT_FALSE((*seen)[0].raised_at.empty());
  const std::int64_t updated = (*seen)[0].sequence;
  SignalQuery after;
  after.after_sequence = updated;
  EXPECT_TRUE(store_->Signals(ed_us_, after)->empty());
  after.after_sequence = 0;
  auto gb_seen = store_->Signals(lab_gb_, after);
  ASSERT_EQ(gb_seen->size(), 1u);
  EXPECT_LT((*gb_seen)[0].sequence, updated);
  EXPECT_TRUE(store_->Signals(lab_ca_, {})->empty()) << "no CA audience was computed";
  EXPECT_TRUE(store_->Signals(NodeAdministrator(), {})->empty());
  SignalQuery other;
  other.detector = "first";
  EXPECT_TRUE(store_->Signals(ed_us_, other)->empty());

  auto recent = store_->RecentSignals({kFentanyl}, "2026-01-12", {});
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u) << "the GB signal ended before";
  EXPECT_EQ((*recent)[0].audience, "US");
  auto of_detector = store_->RecentSignals({kFentanyl}, "2026-01-12", {"first", "noufaily"});
  ASSERT_TRUE(of_detector.ok());
  EXPECT_EQ(of_detector->size(), 1u);
  auto of_another = store_->RecentSignals({kFentanyl}, "2026-01-12", {"scan"});
  ASSERT_TRUE(of_another.ok());
  EXPECT_TRUE(of_another->empty()) << "the signal is noufaily's";
  auto countries = store_->OrganisationCountries();
  ASSERT_TRUE(countries.ok());
  EXPECT_EQ(*countries, (std::vector<std::string>{"CA", "GB", "US"}));
}

}  // namespace
}  // namespace sentinel::reports
