package httpx

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRetryStopsAtTheFirstSuccess(t *testing.T) {
	calls := 0
	err := Retry(context.Background(), func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("dial tcp: i/o timeout")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Retry = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestRetryGivesUpAfterItsBudgetWithTheLastError(t *testing.T) {
	start := time.Now()
	calls := 0
	err := Retry(context.Background(), func(context.Context) error {
		calls++
		return errors.New("refused")
	})
	elapsed := time.Since(start)
	if err == nil || err.Error() != "refused" {
		t.Fatalf("Retry = %v, want the attempt's error", err)
	}
	if elapsed < RetryBudget || elapsed > RetryBudget+500*time.Millisecond || calls < 2 {
		t.Fatalf("gave up after %s and %d calls, want about %s and several", elapsed, calls, RetryBudget)
	}
}

func TestRetryEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = Retry(ctx, func(context.Context) error { return errors.New("refused") })
	if elapsed := time.Since(start); elapsed > 400*time.Millisecond {
		t.Fatalf("Retry outlived its context by %s", elapsed)
	}
}
