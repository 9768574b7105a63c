package main

import (
	"bufio"
	"fmt"
	"strings"
)

// confirm asks the user to type yes before a destructive action. With --yes
// it returns nil at once; without a terminal on stdin it refuses (exit 2)
// naming --yes; any answer but y/yes refuses.
func confirm(env *Env, yes bool, action string) error {
	if yes {
		return nil
	}
	if !env.StdinTTY {
		return &usageError{Msg: fmt.Sprintf("refusing to %s without confirmation: stdin is not a terminal; add --yes to confirm", action)}
	}
	fmt.Fprintf(env.Err, "About to %s.\nType yes to continue: ", action)
	line, _ := bufio.NewReader(env.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &usageError{Msg: fmt.Sprintf("not confirmed: did not %s; nothing was changed", action)}
}
