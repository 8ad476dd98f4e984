// The personal-data scanner against test/cases/reports/personal_data.tsv (text, expected
// description or "-", note), and the person-identifying field names.
#include "core/reports/personal_data.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sentinel::reports {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, '\t')) out.push_back(cell);
  return out;
}

TEST(FindPersonalData, EveryTableRowHolds) {
  const fs::path path = fs::path(SENTINEL_TEST_CASES_DIR) / "reports" / "personal_data.tsv";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  int number = 0, cases = 0, clean = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    const auto c = Cells(line);
    const std::string where = "personal_data.tsv:" + std::to_string(number);
    ASSERT_EQ(c.size(), 3U) << where << ": want 3 cells";
    const auto found = FindPersonalData(c[0]);
    if (c[1] == "-") {
      ++clean;
      EXPECT_FALSE(found) << where << " (" << c[2] << "): found " << found.value_or("") << " in '"
                          << c[0] << "'";
    } else {
      EXPECT_EQ(found.value_or("nothing"), c[1]) << where << " (" << c[2] << "): '" << c[0] << "'";
    }
    ++cases;
  }
  EXPECT_GE(cases, 40);
  EXPECT_GE(clean, 20);  // the false-positive traps are half the point
}

// Scanning stays linear on text built to make naive scanners backtrack.
TEST(FindPersonalData, AdversarialTextIsScannedInLinearTime) {
  const std::vector<std::string> texts = {
      [] {
        std::string s;
        while (s.size() < 200000) s += "1 ";
        return s;
      }(),
      std::string(200000, '@'),
      std::string(200000, '7'),
      [] {
        std::string s;
        while (s.size() < 200000) s += "born 12/";
        return s;
      }(),
      [] {
        std::string s;
        while (s.size() < 200000) s += "a.b@c.d";
        return s;
      }(),
      [] {
        std::string s;
        while (s.size() < 200000) s += "(1)-";
        return s;
      }(),
  };
  const auto start = std::chrono::steady_clock::now();
  for (const auto& text : texts) (void)FindPersonalData(text);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Linear scanning takes milliseconds here; a quadratic one would take minutes.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(FindPersonalData, ArbitraryBytesAreSafe) {
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) % 256));
  for (std::size_t cut = 0; cut < bytes.size(); cut += 97) {
    (void)FindPersonalData(std::string_view(bytes).substr(cut));
  }
  EXPECT_FALSE(FindPersonalData(std::string_view("\0\0\0", 3)));
}

TEST(IsPersonIdentifyingField, NamesAPersonInAnySpelling) {
  for (const char* name : {"patient",
                           "patient_name",
                           "patientName",
                           "PatientID",
                           "first_name",
                           "firstname",
                           "FirstName",
                           "last_name",
                           "surname",
                           "full_name",
                           "given_name",
                           "family_name",
                           "middleName",
                           "date_of_birth",
                           "dateOfBirth",
                           "DATE-OF-BIRTH",
                           "dob",
                           "DOB",
                           "patientDOB",
                           "birth_date",
                           "birthdate",
                           "address",
                           "home_address",
                           "street",
                           "postcode",
                           "zip_code",
                           "zip",
                           "email",
                           "e_mail",
                           "eMail",
                           "email_address",
                           "phone",
                           "phone_number",
                           "telephone",
                           "mobile",
                           "tel",
                           "fax",
                           "national_id",
                           "passport",
                           "passport_no",
                           "ssn",
                           "SSN",
                           "social_security_number",
                           "driver_licence",
                           "drivers_license",
                           "driving_licence",
                           "medical_record_number",
                           "mrn",
                           "ip_address",
                           "ipAddress",
                           "ip",
                           "nino",
                           "initials",
                           "victim_name",
                           "suspectId",
                           "customer_number",
                           "vendor_name",
                           "username",
                           "contact"}) {
    EXPECT_TRUE(IsPersonIdentifyingField(name)) << name;
  }
}

TEST(IsPersonIdentifyingField, LeavesOtherFieldsAlone) {
  for (const char* name : {"name",
                           "kind",
                           "notes",
                           "smiles",
                           "inchi",
                           "form",
                           "method",
                           "site",
                           "platform",
                           "vendor_handle",
                           "substance_name",
                           "batch_number",
                           "lab_number",
                           "case_id",
                           "sample_id",
                           "quantity",
                           "age_band",
                           "sex",
                           "country",
                           "route",
                           "purity",
                           "colour",
                           "logo",
                           "imprint",
                           "weight",
                           "shipping",
                           "mass",
                           "emission",
                           "ipsum",
                           "zipper",
                           "telemetry",
                           "hospital",
                           "department",
                           "person_count",
                           "",
                           "_",
                           "123"}) {
    EXPECT_FALSE(IsPersonIdentifyingField(name)) << name;
  }
}

}  // namespace
}  // namespace sentinel::reports
