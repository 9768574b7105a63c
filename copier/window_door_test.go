package copier

import (
	"context"

	"github.com/ddbrewind/ddbrewind/internal/window"
)

// prepareWindowRewind prepares the rewind of w (a window built by the test
// from its own change readers) into o.To through the one preparation path
// of a window: the window job's checks, the window as the job's past, the
// plan. o.From names the window in messages and fingerprints.
func prepareWindowRewind(ctx context.Context, api API, o Options, w *window.Window) (*Plan, error) {
	if err := checkWindowOptions(o); err != nil {
		return nil, err
	}
	if err := o.check("rewind", false, "--to"); err != nil {
		return nil, err
	}
	if o.From == "" {
		o.From = "incremental export"
	}
	j, err := startJob(ctx, api, o, "rewind", "--to")
	if err != nil {
		return nil, err
	}
	j.window, j.selects = true, true
	p, err := func() (*Plan, error) {
		if err := j.windowChecks(ctx, api, true); err != nil {
			return nil, err
		}
		sel, err := j.windowSelection(j.opts)
		if err != nil {
			return nil, err
		}
		pa, err := j.newWindowPast(w, o.From, sel)
		if err != nil {
			return nil, err
		}
		return j.plan(ctx, api, pa, forCopy, j.opts.Stats)
	}()
	if err != nil {
		j.Close()
		return nil, err
	}
	p.ownsJob = true
	return p, nil
}
