#include "redact/catalogue.h"

namespace tsync::redact {

const std::vector<RuleSpec>& BuiltinRules() {
  static const std::vector<RuleSpec> rules = [] {
    std::vector<RuleSpec> all;
    AddCloudRules(&all);
    AddDevRules(&all);
    AddSaasRules(&all);
    AddGenericRules(&all);
    return all;
  }();
  return rules;
}

}  // namespace tsync::redact
