//! RFC 2782 ("A DNS RR for specifying the location of services", page 3, "Usage
//! rules"): targets are tried by priority, lowest first; within one priority, in a
//! weighted random order. The RFC's own draw (a number in `0..=sum`, the first record
//! whose running sum reaches it) favours the first record: weights 1 and 3 put the
//! heavy one first 3 times in 5, not 4 (measured by the tests). So the draw is the
//! unbiased one (a number in `0..sum`, the first running sum above it, as Go's
//! `net.LookupSRV` does): weights are exact shares, and a weight-0 record comes after
//! every weighted one of its priority (the RFC gives it "a very small chance").

/// One SRV record as the ordering needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv<T> {
    pub priority: u16,
    pub weight: u16,
    pub item: T,
}

/// The records in the order to try them. `pick(sum)` returns a uniform random number in
/// `0..sum` (injected so tests can fix it); it is called only with `sum > 0`.
pub fn rfc2782<T>(mut records: Vec<Srv<T>>, pick: &mut dyn FnMut(u32) -> u32) -> Vec<Srv<T>> {
    // stable: weight-0 records first within each priority, as the RFC asks
    records.sort_by_key(|r| (r.priority, r.weight != 0));
    let mut out = Vec::with_capacity(records.len());
    while !records.is_empty() {
        let priority = records[0].priority;
        let end = records.iter().position(|r| r.priority != priority).unwrap_or(records.len());
        let mut group: Vec<Srv<T>> = records.drain(..end).collect();
        while !group.is_empty() {
            let sum: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            if sum == 0 {
                out.append(&mut group); // only weight 0 left: in the order given
                break;
            }
            let chosen = pick(sum).min(sum - 1);
            let mut running = 0u32;
            let mut index = group.len() - 1;
            for (i, r) in group.iter().enumerate() {
                running += u32::from(r.weight);
                if running > chosen {
                    index = i;
                    break;
                }
            }
            out.push(group.remove(index));
        }
    }
    out
}

/// [`rfc2782`] with the thread's random numbers.
pub fn rfc2782_random<T>(records: Vec<Srv<T>>) -> Vec<Srv<T>> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    rfc2782(records, &mut |sum| rng.gen_range(0..sum))
}
