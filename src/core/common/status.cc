#include "core/common/status.h"

namespace sentinel {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      name = "invalid argument";
      break;
    case Code::kNotFound:
      name = "not found";
      break;
    case Code::kCorruption:
      name = "corruption";
      break;
    case Code::kIoError:
      name = "I/O error";
      break;
    case Code::kFailedPrecondition:
      name = "failed precondition";
      break;
    case Code::kUnauthenticated:
      name = "unauthenticated";
      break;
    case Code::kPermissionDenied:
      name = "permission denied";
      break;
    case Code::kConflict:
      name = "conflict";
      break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace sentinel
