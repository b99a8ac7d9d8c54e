//! Exact integer linear algebra for the privacy tests: what a reader can determine from published sums.

/// The rank of a matrix of integers, by fraction-free row reduction.
pub fn rank(mut rows: Vec<Vec<i128>>) -> usize {
    let cols = rows.first().map_or(0, Vec::len);
    let mut rank = 0;
    for col in 0..cols {
        let Some(pivot) = (rank..rows.len()).find(|&r| rows[r][col] != 0) else {
            continue;
        };
        rows.swap(rank, pivot);
        for r in rank + 1..rows.len() {
            let (a, b) = (rows[rank][col], rows[r][col]);
            if b == 0 {
                continue;
            }
            let pivot_row = rows[rank].clone();
            for (v, p) in rows[r].iter_mut().zip(&pivot_row) {
                *v = *v * a - p * b;
            }
            // Keep entries small: divide the row by the gcd of its entries.
            let d = rows[r].iter().fold(0i128, |d, &v| gcd(d, v.abs()));
            if d > 1 {
                rows[r].iter_mut().for_each(|v| *v /= d);
            }
        }
        rank += 1;
    }
    rank
}

/// Whether `v` is a linear combination of `rows`: then a reader who knows the rows'
/// values knows `v`'s value too.
pub fn in_row_space(rows: &[Vec<i128>], rank_of_rows: usize, v: &[i128]) -> bool {
    let mut with = rows.to_vec();
    with.push(v.to_vec());
    rank(with) == rank_of_rows
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
