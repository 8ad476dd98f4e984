// Personal data in report text and field names (docs/reports.md, "Refused").
//
// Sentinel keeps no personal data, so free text is refused when it holds a datum that points at
// a person. The scanners are written for forensic notes: case and batch numbers, CAS numbers,
// seizure dates, masses and quantities must pass, so every pattern needs a shape a person's
// datum has and a laboratory's number does not (a checksum, a telephone grouping, a keyword).
// Both functions are pure, linear in the text's length and safe on any bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sentinel::reports {

// The description of the earliest personal datum in `text` ("an e-mail address",
// "a telephone number", "a US social security number", "a UK National Insurance number",
// "a Chinese resident identity number", "a date of birth"), or nullopt. The datum itself is
// never returned, so the description can go into an error message and a log.
std::optional<std::string> FindPersonalData(std::string_view text);

// True for a field name that asks for a person's identity or contact (patient, first_name,
// dateOfBirth, DOB, e_mail, phone_number, passport, ssn ...), in snake_case, camelCase,
// kebab-case or any letter case.
bool IsPersonIdentifyingField(std::string_view field_name);

}  // namespace sentinel::reports
