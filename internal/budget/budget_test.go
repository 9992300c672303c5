package budget_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bci-decode/bci-decode/internal/budget"
)

func TestCheck(t *testing.T) {
	assert.Positive(t, budget.Limit())
	assert.NoError(t, budget.Check("a small matrix", 100, 8))
	err := budget.Check("a 1000000 x 1000000 covariance", 1000000*1000000, 8)
	assert.ErrorContains(t, err, "a 1000000 x 1000000 covariance needs 7450.6 GiB")
	assert.ErrorContains(t, budget.Check("an overflow", math.MaxUint64, 16), "more than 2^64 bytes")
}
