package copier

// newSummary starts the summary of a copy, diff or undo from source.
func newSummary(o Options, source string, resumed bool) *Summary {
	return &Summary{Source: source, Target: o.To, DryRun: o.DryRun, Segments: o.Segments, Writers: o.Writers,
		Started: o.Now().UTC(), Resumed: resumed}
}

// finish fills in the end time, rate, counters and what the executor
// recorded (unwritten keys, keys not in the source).
func (s *Summary) finish(o Options, x *executor) {
	s.Finished = o.Now().UTC()
	s.Elapsed = s.Finished.Sub(s.Started).Seconds()
	s.Counts = o.Stats.Snapshot()
	if s.Elapsed > 0 {
		s.Rate = float64(s.Counts.Written+s.Counts.Deleted+s.Counts.Skipped) / s.Elapsed
	}
	s.Unwritten, s.NotInRecovery, s.Conflicts, s.lastErr = x.report()
}

// outcome sets the outcome of a run that ended without an error of its
// own: *IncompleteError when items could not be written into table.
func (s *Summary) outcome(table string) error {
	if s.Counts.Conflicts > 0 && s.Counts.Failed == 0 {
		s.Outcome = "conflicts"
		return &ConflictError{Table: table, Conflicts: s.Counts.Conflicts, Keys: s.Conflicts}
	}
	if s.Counts.Failed > 0 {
		s.Outcome = "incomplete"
		return &IncompleteError{Table: table, Failed: s.Counts.Failed, Unwritten: s.Unwritten, Cause: s.lastErr}
	}
	s.Outcome = "ok"
	return nil
}
