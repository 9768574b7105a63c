package copier

// newSummary starts the summary of a copy, diff or undo from source.
func newSummary(o Options, source string, resumed bool) *Summary {
	return &Summary{Source: source, Target: o.To, DryRun: o.DryRun, Segments: o.Segments, Writers: o.Writers,
		Started: o.Now().UTC(), Resumed: resumed}
}

// finish fills in the end time, rate, and what the executor's ledger
// counted and recorded (unwritten keys, keys not in the source, conflicts,
// clobbered keys).
func (s *Summary) finish(o Options, x *executor) {
	s.Finished = o.Now().UTC()
	s.Elapsed = s.Finished.Sub(s.Started).Seconds()
	s.Counts = x.snapshot()
	if s.Elapsed > 0 {
		s.Rate = float64(s.Counts.Written+s.Counts.Deleted+s.Counts.Skipped) / s.Elapsed
	}
	s.Unwritten, s.NotInRecovery, s.Conflicts, s.Clobbered, s.lastErr = x.report()
}

// fold adds the conflicts and clobbered keys a resumed copy's checkpoint
// recorded for the pages it does not read again (keys it met again count
// once), so that a resume reports what its earlier attempts found.
func (s *Summary) fold(conflicts, clobbered []string) {
	add := func(list []string, prior []string) ([]string, int64) {
		seen := make(map[string]bool, len(list))
		for _, k := range list {
			seen[k] = true
		}
		n := int64(0)
		for _, k := range prior {
			if !seen[k] {
				seen[k] = true
				list = append(list, k)
				n++
			}
		}
		return list, n
	}
	var n int64
	s.Conflicts, n = add(s.Conflicts, conflicts)
	s.Counts.Conflicts += n
	s.Clobbered, n = add(s.Clobbered, clobbered)
	s.Counts.Clobbered += n
}

// outcome sets the outcome of a run that ended without an error of its
// own: *IncompleteError when items could not be written into table.
func (s *Summary) outcome(table string) error {
	accepted := s.ConflictsAccepted && s.Counts.Clobbered == 0
	if (s.Counts.Conflicts > 0 && !accepted || s.Counts.Clobbered > 0) && s.Counts.Failed == 0 {
		s.Outcome = "conflicts"
		return &ConflictError{Table: table, Conflicts: s.Counts.Conflicts, Keys: s.Conflicts,
			Clobbered: s.Counts.Clobbered, ClobberedKeys: s.Clobbered}
	}
	if s.Counts.Failed > 0 {
		s.Outcome = "incomplete"
		return &IncompleteError{Table: table, Failed: s.Counts.Failed, Unwritten: s.Unwritten, Cause: s.lastErr}
	}
	s.Outcome = "ok"
	if s.Counts.Conflicts > 0 {
		s.Outcome = "ok, conflicts accepted"
	}
	return nil
}
