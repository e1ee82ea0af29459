//! Cancellable joins: a physical optimizer rule that puts a
//! `CooperativeExec` over every operator whose output can be far larger
//! than its input (cross, nested-loop, hash, sort-merge and symmetric
//! joins; unnest).
//!
//! DataFusion's own rule (`EnsureCooperative`) makes leaves and exchanges
//! spend Tokio's budget per batch they produce. A join that multiplies its
//! input reads a few budgeted batches and then computes unbudgeted: `SELECT
//! count(*) FROM player a, player b, player c` never returned `Pending`, so
//! neither the API's time limit nor dropping the query could stop it
//! (`tests/runaway.rs`, which failed before this rule). Budgeting each of
//! its output batches too makes it yield every so many batches, where an
//! aborted task ends. Results are unchanged: the wrapper passes batches
//! through.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, SortMergeJoinExec, SymmetricHashJoinExec,
};
use datafusion::physical_plan::unnest::UnnestExec;

/// The rule (see the module's header).
#[derive(Debug, Default)]
pub struct CooperativeAmplifiers;

/// Whether `plan`'s output can be much larger than its input.
fn amplifies(plan: &dyn ExecutionPlan) -> bool {
    plan.is::<CrossJoinExec>()
        || plan.is::<NestedLoopJoinExec>()
        || plan.is::<HashJoinExec>()
        || plan.is::<SortMergeJoinExec>()
        || plan.is::<SymmetricHashJoinExec>()
        || plan.is::<UnnestExec>()
}

impl PhysicalOptimizerRule for CooperativeAmplifiers {
    fn name(&self) -> &str {
        "CooperativeAmplifiers"
    }

    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if amplifies(node.as_ref()) {
                Ok(Transformed::yes(
                    Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>
                ))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn joins_are_wrapped_and_answers_unchanged() {
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(CooperativeAmplifiers))
            .build();
        let ctx = SessionContext::new_with_state(state);
        // (1 + 2 + 3) × (10 + 20): every pair is computed (a count would be
        // answered from statistics, without a join)
        let sql =
            "SELECT sum(a.x * b.y) AS n FROM (VALUES (1), (2), (3)) a(x), (VALUES (10), (20)) b(y)";
        let df = ctx.sql(sql).await.expect("plan");
        let plan = df.clone().create_physical_plan().await.expect("physical");
        let shown = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        let wrapped = shown
            .lines()
            .zip(shown.lines().skip(1))
            .any(|(a, b)| a.contains("CooperativeExec") && b.contains("CrossJoinExec"));
        assert!(wrapped, "{shown}");
        let batches = df.collect().await.expect("rows");
        let n = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .expect("count")
            .value(0);
        assert_eq!(n, 180);
    }
}
