// Package closedloop closes the loop around the live decoder: a simulated
// user steers a cursor through it, as in closed-loop BCI simulators
// (Cunningham et al. 2011; Willett et al. 2017).
//
// The loop runs through the live path and NATS, as a real one would:
//
//	User (cosine-tuned Population firing for the velocity it intends)
//	  -> bins -> session (pipeline, decoder, publisher)
//	  -> bci.<session>.intent -> Controller (integrates velocity, runs the task)
//	  -> bci.<session>.cursor -> User (sees the cursor after a visual delay)
//
// The user produces a bin only once it has received the cursor state that
// its delay lets it see, so the loop is lock-step: run in real time or as
// fast as possible, the same seed gives the same trials.
//
// Trials are scored in one place (Score): success rate, acquisition time,
// path efficiency, dial-in time and Fitts's-law throughput. A recorded
// block is relabelled with the user's inferred intention as in ReFIT
// (Gilja et al. 2012; Intention) to retrain the decoder, and Recalibrate
// runs a whole round: calibrate, record a block, retrain, run the next
// block with the new model.
package closedloop
