#pragma once

// N-ary Kleene AND / OR ("sluice_and_all", "sluice_or_all"): the functions that keep long
// conjunctions and disjunctions shallow (sluice::AllOf / AnyOf, expression.h).
//
// Arrow has binary and_kleene / or_kleene only, and when it simplifies an expression it
// flattens every chain of them into one left-deep chain, one level per term; binding,
// simplifying and evaluating recurse over that, so 10,000 OR-ed terms overflow the stack.
// These functions are not associative to Arrow, so it leaves their arguments where they
// are; a tree of them 16 arguments wide holds 100,000 terms five levels deep.

#include <arrow/compute/expression.h>
#include <arrow/type_fwd.h>
#include <arrow/status.h>

#include <vector>

namespace sluice::compute {

inline constexpr char kAndAllFunction[] = "sluice_and_all";
inline constexpr char kOrAllFunction[] = "sluice_or_all";

/// Adds both functions to Arrow's default function registry (once per process; later
/// calls return the first outcome). They must be there, not only in the engine's
/// registry: Arrow's simplification re-binds calls through the default registry.
arrow::Status RegisterKleeneChainFunctions();

/// Kleene AND (OR when `is_or`) of `terms`, merging in terms that are chains of the same
/// operation (binary and_kleene or n-ary sluice_and_all calls), without recursion: up to 16
/// terms as a balanced tree of binary calls, more as a tree of n-ary calls of 16
/// arguments each. No terms: literal true (false).
arrow::compute::Expression MakeKleeneChain(bool is_or, std::vector<arrow::compute::Expression> terms);

/// `predicate` with each OR chain among its top-level AND terms that has 16 or more
/// `column == literal` terms on one column — integer or string literals of exactly the
/// column's type in `schema` — holding them as one is_in(column, values) with nulls giving
/// null: the same rows, one hash lookup per row instead of one comparison per term
/// (reduce(or_, [col("id") == v for v in ids])). `predicate` itself when nothing changes.
arrow::compute::Expression UseSetLookups(const arrow::compute::Expression& predicate,
                                         const arrow::Schema& schema);

}  // namespace sluice::compute
