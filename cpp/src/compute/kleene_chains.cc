#include "compute/kleene_chains.h"

#include <arrow/array/builder_base.h>
#include <arrow/array/util.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/function.h>
#include <arrow/compute/kernel.h>
#include <arrow/compute/registry.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace sluice::compute {

namespace {

namespace cp = arrow::compute;

arrow::Datum ToDatum(const cp::ExecValue& value) {
  if (value.is_array()) return arrow::Datum(value.array.ToArrayData());
  return arrow::Datum(value.scalar->GetSharedPtr());
}

/// Folds the arguments with the binary Kleene function, one at a time, so only the
/// running result and one argument are held beyond the inputs.
template <bool kIsOr>
arrow::Status FoldArguments(cp::KernelContext* ctx, const cp::ExecSpan& batch,
                            cp::ExecResult* out) {
  arrow::Datum folded = ToDatum(batch[0]);
  for (int i = 1; i < batch.num_values(); ++i) {
    ARROW_ASSIGN_OR_RAISE(folded, cp::CallFunction(kIsOr ? "or_kleene" : "and_kleene",
                                                   {folded, ToDatum(batch[i])},
                                                   ctx->exec_context()));
  }
  if (folded.is_scalar()) {
    ARROW_ASSIGN_OR_RAISE(auto array, arrow::MakeArrayFromScalar(*folded.scalar(), batch.length,
                                                                 ctx->memory_pool()));
    folded = arrow::Datum(std::move(array));
  }
  out->value = folded.array();
  return arrow::Status::OK();
}

/// Like and_kleene / or_kleene, a null-typed argument (a null literal) is taken as a
/// boolean null.
class KleeneChainFunction : public cp::ScalarFunction {
 public:
  using cp::ScalarFunction::ScalarFunction;

  arrow::Result<const cp::Kernel*> DispatchBest(std::vector<arrow::TypeHolder>* types) const override {
    for (auto& type : *types) {
      if (type.id() == arrow::Type::NA) type = arrow::boolean();
    }
    return DispatchExact(*types);
  }
};

template <bool kIsOr>
arrow::Status AddFunction(cp::FunctionRegistry* registry) {
  const char* name = kIsOr ? kOrAllFunction : kAndAllFunction;
  auto function = std::make_shared<KleeneChainFunction>(
      name, cp::Arity::VarArgs(1),
      cp::FunctionDoc(kIsOr ? "Kleene OR of any number of booleans"
                            : "Kleene AND of any number of booleans",
                      "Folds the arguments with the binary Kleene function; kept n-ary so that "
                      "long chains stay shallow.",
                      {"*booleans"}));
  cp::ScalarKernel kernel(
      cp::KernelSignature::Make({cp::InputType(arrow::boolean())}, arrow::boolean(),
                                /*is_varargs=*/true),
      FoldArguments<kIsOr>);
  kernel.null_handling = cp::NullHandling::COMPUTED_NO_PREALLOCATE;
  kernel.mem_allocation = cp::MemAllocation::NO_PREALLOCATE;
  ARROW_RETURN_NOT_OK(function->AddKernel(std::move(kernel)));
  return registry->AddFunction(std::move(function), /*allow_overwrite=*/false);
}

/// A binary tree of `function` over terms[begin, end), balanced.
cp::Expression BalancedBinary(const char* function, std::vector<cp::Expression>& terms,
                              size_t begin, size_t end) {
  if (end - begin == 1) return std::move(terms[begin]);
  const size_t middle = begin + (end - begin) / 2;
  return cp::call(function, {BalancedBinary(function, terms, begin, middle),
                             BalancedBinary(function, terms, middle, end)});
}

constexpr size_t kChainFanOut = 16;

/// Chains with at least this many equality terms on one column get them as one is_in.
constexpr size_t kMinTermsForSetLookup = 16;

/// The column and the value of `column == value` (either way round), when the value is
/// a non-null integer, string or binary literal of exactly the column's type in `schema`:
/// then is_in decides equality the same way (not for floats, where NaN and -0.0 compare
/// differently from how they hash; not across types, where is_in would cast the values).
std::optional<std::pair<std::string, std::shared_ptr<arrow::Scalar>>> ColumnEqualsLiteral(
    const cp::Expression& term, const arrow::Schema& schema) {
  const cp::Expression::Call* call = term.call();
  if (!call || term.IsBound() || call->function_name != "equal" || call->arguments.size() != 2) {
    return std::nullopt;
  }
  for (int side = 0; side < 2; ++side) {
    const arrow::FieldRef* ref = call->arguments[side].field_ref();
    const arrow::Datum* value = call->arguments[1 - side].literal();
    if (!ref || !ref->name() || !value || !value->is_scalar()) continue;
    const auto& scalar = value->scalar();
    const arrow::Type::type id = scalar->type->id();
    const auto field = schema.GetFieldByName(*ref->name());
    if (!scalar->is_valid || !(arrow::is_integer(id) || arrow::is_base_binary_like(id)) ||
        !field || !field->type()->Equals(*scalar->type)) {
      return std::nullopt;
    }
    return std::make_pair(*ref->name(), scalar);
  }
  return std::nullopt;
}

/// Replaces the many `column == literal` terms of a disjunction on one column by one
/// `is_in(column, values)`: a filter like reduce(or_, [col("id") == v for v in ids]) then
/// costs one hash lookup per row instead of one comparison per term. Nulls stay null
/// (EMIT_NULL), as null == v OR ... is null.
bool GroupEqualitiesIntoSetLookups(const arrow::Schema& schema, std::vector<cp::Expression>* terms) {
  struct Group {
    size_t first_term;
    std::shared_ptr<arrow::DataType> type;
    std::vector<std::shared_ptr<arrow::Scalar>> values;
    bool mixed_types = false;
  };
  std::map<std::string, Group> groups;
  for (size_t i = 0; i < terms->size(); ++i) {
    auto equality = ColumnEqualsLiteral((*terms)[i], schema);
    if (!equality) continue;
    auto [it, added] = groups.try_emplace(equality->first, Group{i, equality->second->type, {}});
    Group& group = it->second;
    group.mixed_types |= !group.type->Equals(*equality->second->type);
    group.values.push_back(std::move(equality->second));
  }
  std::map<size_t, cp::Expression> replacements;  // by the position of a group's first term
  std::set<std::string> replaced_columns;
  for (auto& [column, group] : groups) {
    if (group.mixed_types || group.values.size() < kMinTermsForSetLookup) continue;
    auto builder = arrow::MakeBuilder(group.type);
    if (!builder.ok() || !(*builder)->AppendScalars(group.values).ok()) continue;
    auto values = (*builder)->Finish();
    if (!values.ok()) continue;
    replacements.emplace(
        group.first_term,
        cp::call("is_in", {cp::field_ref(column)},
                 cp::SetLookupOptions(arrow::Datum(*values),
                                      cp::SetLookupOptions::NullMatchingBehavior::EMIT_NULL)));
    replaced_columns.insert(column);
  }
  if (replacements.empty()) return false;
  std::vector<cp::Expression> kept;
  for (size_t i = 0; i < terms->size(); ++i) {
    auto replacement = replacements.find(i);
    if (replacement != replacements.end()) {
      kept.push_back(std::move(replacement->second));
      continue;
    }
    auto equality = ColumnEqualsLiteral((*terms)[i], schema);
    if (equality && replaced_columns.count(equality->first)) continue;  // in the is_in
    kept.push_back(std::move((*terms)[i]));
  }
  *terms = std::move(kept);
  return true;
}

/// The terms of the chain of `function` (and of its n-ary form) at `expr`, in order.
std::vector<cp::Expression> ChainTerms(const cp::Expression& expr, const char* binary,
                                       const char* n_ary) {
  std::vector<cp::Expression> flat;
  std::vector<const cp::Expression*> pending{&expr};
  while (!pending.empty()) {
    const cp::Expression* term = pending.back();
    pending.pop_back();
    const cp::Expression::Call* call = term->call();
    if (call && !term->IsBound() &&
        (call->function_name == binary || call->function_name == n_ary)) {
      for (auto it = call->arguments.rbegin(); it != call->arguments.rend(); ++it) {
        pending.push_back(&*it);
      }
    } else {
      flat.push_back(*term);
    }
  }
  return flat;
}

}  // namespace

cp::Expression MakeKleeneChain(bool is_or, std::vector<cp::Expression> terms) {
  const char* binary = is_or ? "or_kleene" : "and_kleene";
  const char* n_ary = is_or ? kOrAllFunction : kAndAllFunction;
  // Merge chains of the same operation, keeping the terms in order.
  std::vector<cp::Expression> flat;
  std::vector<cp::Expression> pending(terms.rbegin(), terms.rend());
  while (!pending.empty()) {
    cp::Expression term = std::move(pending.back());
    pending.pop_back();
    const cp::Expression::Call* call = term.call();
    if (call && !term.IsBound() &&
        (call->function_name == binary || call->function_name == n_ary)) {
      pending.insert(pending.end(), call->arguments.rbegin(), call->arguments.rend());
    } else {
      flat.push_back(std::move(term));
    }
  }
  if (flat.empty()) return cp::literal(!is_or);
  if (flat.size() <= kChainFanOut) return BalancedBinary(binary, flat, 0, flat.size());
  // RegisterKleeneChainFunctions' outcome is checked when the expression is bound: a
  // failed registration shows there as an unknown function.
  ARROW_UNUSED(RegisterKleeneChainFunctions());
  std::vector<cp::Expression> level = std::move(flat);
  while (level.size() > kChainFanOut) {
    std::vector<cp::Expression> next;
    for (size_t begin = 0; begin < level.size(); begin += kChainFanOut) {
      const size_t end = std::min(begin + kChainFanOut, level.size());
      if (end - begin == 1) {
        next.push_back(std::move(level[begin]));
        continue;
      }
      next.push_back(cp::call(n_ary, std::vector<cp::Expression>(
                                         std::make_move_iterator(level.begin() + begin),
                                         std::make_move_iterator(level.begin() + end))));
    }
    level = std::move(next);
  }
  return cp::call(n_ary, std::move(level));
}

cp::Expression UseSetLookups(const cp::Expression& predicate, const arrow::Schema& schema) {
  std::vector<cp::Expression> conjuncts = ChainTerms(predicate, "and_kleene", kAndAllFunction);
  bool changed = false;
  for (auto& conjunct : conjuncts) {
    std::vector<cp::Expression> disjuncts = ChainTerms(conjunct, "or_kleene", kOrAllFunction);
    if (disjuncts.size() < kMinTermsForSetLookup) continue;
    if (GroupEqualitiesIntoSetLookups(schema, &disjuncts)) {
      conjunct = MakeKleeneChain(/*is_or=*/true, std::move(disjuncts));
      changed = true;
    }
  }
  if (!changed) return predicate;
  return MakeKleeneChain(/*is_or=*/false, std::move(conjuncts));
}

arrow::Status RegisterKleeneChainFunctions() {
  static const arrow::Status registered = [] {
    cp::FunctionRegistry* registry = cp::GetFunctionRegistry();
    // Another copy of the engine in the process (a second extension module) may have
    // added them already; theirs behave the same.
    if (!registry->GetFunction(kOrAllFunction).ok()) {
      ARROW_RETURN_NOT_OK(AddFunction<true>(registry));
    }
    if (!registry->GetFunction(kAndAllFunction).ok()) {
      ARROW_RETURN_NOT_OK(AddFunction<false>(registry));
    }
    return arrow::Status::OK();
  }();
  return registered;
}

}  // namespace sluice::compute
