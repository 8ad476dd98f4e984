// Reports and substance mentions as the store tests build them, without the intake.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/reports/store.h"

namespace sentinel::reports::test_fixtures {

inline Report Seizure(const std::string& key, const std::string& date, const std::string& country,
                      const std::string& subdivision, Distribution distribution) {
  Report r;
  r.kind = Kind::kSeizure;
  r.idempotency_key = key;
  r.distribution = distribution;
  r.date = ParseDay(date).value();
  r.country = country;
  r.subdivision = subdivision;
  r.form = "powder";
  r.body = {{"kind", "seizure"}, {"idempotency_key", key}, {"date", date}};
  return r;
}

inline ResolvedMention Mention(const std::string& name, const std::string& smiles,
                               std::vector<std::string> classes = {}) {
  ResolvedMention m;
  auto record = std::make_shared<SubstanceRecord>();
  record->key = smiles.empty() ? "name:" + name : smiles;
  record->name = name;
  record->smiles = smiles;
  record->in_knowledge_base = true;
  record->classes = std::move(classes);
  m.substance = std::move(record);
  m.role = "main";
  m.resolved_by = "name";
  return m;
}

}  // namespace sentinel::reports::test_fixtures
