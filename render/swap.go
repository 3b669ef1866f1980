package render

import (
	"errors"
	"fmt"
	"os"
)

// ErrBusy: another render is writing beside the same folder.
var ErrBusy = errors.New("another zkstage render is writing there now; retry once it is done")

// swapByRenames puts next in out's place with two renames (out aside, next
// in), for file systems that cannot exchange two folders; on failure out
// is put back. Afterwards next holds the old tree, as after an exchange.
func swapByRenames(next, out string) error {
	aside := next + "-old"
	if err := os.Rename(out, aside); err != nil {
		return fmt.Errorf("move %s aside: %w", out, err)
	}
	if err := os.Rename(next, out); err != nil {
		if rerr := os.Rename(aside, out); rerr != nil {
			return fmt.Errorf("move the new tree into %s: %w; the previous tree is in %s (%v)", out, err, aside, rerr)
		}
		return fmt.Errorf("move the new tree into %s: %w (the previous tree is back)", out, err)
	}
	return os.Rename(aside, next)
}
