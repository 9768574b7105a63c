package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// confirm asks the user to type yes before a destructive action. With --yes
// it returns nil at once; without a terminal on stdin it refuses (exit 2)
// naming --yes; any answer but y/yes refuses. Ctrl-C (ctx cancelled) while
// it waits returns at once, an interruption (exit 130), without waiting for
// Enter.
func confirm(ctx context.Context, env *Env, yes bool, action string) error {
	if yes {
		return nil
	}
	if !env.StdinTTY {
		return &usage.Error{Msg: fmt.Sprintf("refusing to %s without confirmation: stdin is not a terminal; add --yes to confirm", action)}
	}
	fmt.Fprintf(env.Err, "About to %s.\nType yes to continue: ", action)
	answer := make(chan string, 1)
	go func() {
		// Left blocked on the terminal when interrupted: the process
		// exits right after.
		line, _ := bufio.NewReader(env.In).ReadString('\n')
		answer <- line
	}()
	var line string
	select {
	case line = <-answer:
	case <-ctx.Done():
		fmt.Fprintln(env.Err) // end the prompt's line
		return fmt.Errorf("interrupted at the confirmation: did not %s; nothing was changed: %w", action, ctx.Err())
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &usage.Error{Msg: fmt.Sprintf("not confirmed: did not %s; nothing was changed", action)}
}
