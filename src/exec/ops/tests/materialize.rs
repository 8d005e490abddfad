//! The materialize operator: a table's current row per key, for pull queries, which read only
//! what a step committed.

use crate::exec::ops::fixture::{Kind, OpUnderTest, TABLE_T};

/// Upserts replace their key's row, deletions remove it, `U-` rows change nothing; the
/// changes pass on unchanged; readers see a step's writes once it committed.
#[test]
fn upserts_and_deletions_reach_the_store_and_readers_see_committed_rows() {
    let mut op = OpUnderTest::new(
        &[TABLE_T],
        "CREATE TABLE OUT AS SELECT * FROM T;",
        Kind::Materialize,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
         | +  | a        | 1        | 10             |
         | +  | b        | 2        | 11             |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
    | +  | a        | 1        | 10             |
    | +  | b        | 2        | 11             |
    ");
    assert_eq!(
        op.materialized_rows(),
        "(no rows)\n",
        "nothing committed yet"
    );
    op.commit();
    insta::assert_snapshot!(op.materialized_rows(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
    | +  | a        | 1        | 10             |
    | +  | b        | 2        | 11             |
    ");

    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
         | +  | a        | 3        | 12             |
         | -  | b        | null     | 13             |
         | +  | c        | 4        | 14             |
         | U- | c        | 4        | 14             |
         | U+ | c        | 5        | 15             |",
    );
    let before_commit = op.materialized_rows();
    op.commit();
    insta::assert_snapshot!(before_commit, @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
    | +  | a        | 1        | 10             |
    | +  | b        | 2        | 11             |
    ");
    insta::assert_snapshot!(op.materialized_rows(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
    | +  | a        | 3        | 12             |
    | +  | c        | 5        | 15             |
    ");
}
