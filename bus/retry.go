package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Persist runs op until it succeeds, retrying for up to within: a
// JetStream cluster that lost a node answers again once it has elected new
// leaders, seconds later, and a session should ride that out rather than
// exit. Errors that retrying cannot mend (a recording that exists, a bad
// session name) and the end of ctx stop it at once. Each attempt gets at
// most 5 s.
func Persist(ctx context.Context, within time.Duration, log zerolog.Logger, what string, op func(context.Context) error) error {
	deadline := time.Now().Add(within)
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := op(actx)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrRecorded) || errors.Is(err, ErrSession) || errors.Is(err, ErrLeased) || errors.Is(err, ErrNoModel):
			return err
		case time.Now().Add(wait).After(deadline):
			return fmt.Errorf("%s: gave up after %d attempts in %v: %w", what, attempt, within, err)
		}
		log.Warn().Err(err).Str("what", what).Int("attempt", attempt).Msg("JetStream not answering; trying again")
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, 2*time.Second)
	}
}
