----------------------------- MODULE TwoPhase -----------------------------
(***************************************************************************)
(* twopc's two-phase commit, as built: one transaction with branches at    *)
(* the participants P, run by one coordinator, over a network that loses, *)
(* duplicates and reorders messages, with crashes of the coordinator and  *)
(* of participants. Paths below are relative to the repository root;      *)
(* "coordinator/.../X.java" means                                          *)
(* coordinator/src/main/java/dev/twopc/coordinator/internal/X.java and     *)
(* "participant-sdk/.../X.java" means                                      *)
(* participant-sdk/src/main/java/dev/twopc/participant/internal/X.java.    *)
(*                                                                         *)
(* The constant Mutant selects one deliberate bug (see Mutants below); the *)
(* build checks that TLC finds a violation for each one, so the checks    *)
(* cannot pass vacuously. Mutant = "none" is the code as it is.           *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, TLC

CONSTANTS
    P,                \* the participants, one branch each (model values)
    MaxCoordCrashes,  \* bound on coordinator crashes
    MaxPartCrashes,   \* bound on participant crashes, all participants together
    ReadOnlyVotes,    \* BOOLEAN: participants may vote READ_ONLY
    LossyNetwork,     \* BOOLEAN: messages may be dropped (then retries matter)
    Mutant            \* "none" or one of the deliberate bugs in Mutants

Mutants ==
  { "none",
    \* (a) TransactionEngine.decideCommit tells participants COMMIT before the
    \*     decision record is durable (the log write happens later, lazily).
    "commit_before_log",
    \* (b) BranchEngine.prepare answers YES before the prepared record (the
    \*     pending map row) is committed to the participant's store.
    "yes_before_durable",
    \* (c) Recovery.run resumes a transaction logged COMMIT as if it were
    \*     undecided: presumed abort, rollbacks to every branch.
    "recovery_aborts_committing",
    \* (d) DecisionLog.decide overwrites the decision instead of
    \*     insert-if-absent ("... WHERE decision IS NULL" dropped).
    "overwrite_decision",
    \* (e) GetOutcome answered from the log alone (presumed abort) while the
    \*     transaction is still being decided in memory. This is what a
    \*     participant gets when InDoubtResolver.ask falls back to another
    \*     coordinator sharing the log (see README, "findings").
    "outcome_presumes_abort" }

ASSUME Mutant \in Mutants
ASSUME MaxCoordCrashes \in Nat /\ MaxPartCrashes \in Nat
ASSUME ReadOnlyVotes \in BOOLEAN /\ LossyNetwork \in BOOLEAN
ASSUME P # {}

VARIABLES
  (*** coordinator, volatile: the Tx in TransactionEngine.live ***)
  cState,      \* see CStates
  cVotes,      \* Branch.vote per participant, as the coordinator heard it
  cAwait,      \* branches PhaseTwo still has to reach (Branch.awaitingPhase2)
  cWriting,    \* in DECIDING: the Decided record being appended
  (*** coordinator, durable: the decision log (DecisionLog, twopc_tx / twopc_branch) ***)
  logBegun,    \* the Begun record (or a Decided carrying it) is in the log
  logDecision, \* twopc_tx.decision: "none", "COMMIT" or "ABORT"
  logYes,      \* branches logged COMMITTING with a COMMIT decision (YES voters)
  (*** participants, durable: BranchStore's pending map and finished table ***)
  pStore,      \* see PStores
  (*** participants, volatile ***)
  pUp,         \* the participant process is running
  pUncertain,  \* PendingBranch.uncertain: the prepared row's commit failed
  pEarly,      \* mutant (b) only: YES sent, prepared row not yet durable
  (*** the network ***)
  msgs,        \* every message ever sent and not dropped; delivery keeps it
  (*** history and bounds, not part of the system ***)
  applied,     \* what happened to each branch's work: "none", "committed", "aborted"
  votesCast,   \* every vote each participant has sent
  cCrashes, pCrashes

coordVars == <<cState, cVotes, cAwait, cWriting>>
logVars   == <<logBegun, logDecision, logYes>>
partVars  == <<pStore, pUp, pUncertain, pEarly>>
histVars  == <<applied, votesCast, cCrashes, pCrashes>>
vars      == <<coordVars, logVars, partVars, msgs, histVars>>

(* Tx.state, plus "notlive" (not in TransactionEngine.live: finished, or   *)
(* unknown after a restart) and "down" (the process is dead). COMMITTED /  *)
(* ABORTED are "notlive": finish() removes the Tx from the live map.       *)
CStates == {"active", "preparing", "deciding", "committing", "aborting",
            "notlive", "down"}
LiveStates == {"active", "preparing", "deciding", "committing", "aborting"}

(* "prepared": a row in TWOPC_PREPARED_BRANCH; the others are the Fate in   *)
(* TWOPC_FINISHED_BRANCH (participant-sdk/.../Fate.java); "none": no trace. *)
PStores == {"none", "prepared", "committed", "rolledback", "votedno", "readonly"}

Votes == {"YES", "NO", "READ_ONLY"}
Decisions == {"none", "COMMIT", "ABORT"}

(* One record shape for every message, so TLC compares them freely.        *)
(*   prepare  coordinator -> p   Participant.Prepare                        *)
(*   vote     p -> coordinator   the PrepareResponse (v = the vote)         *)
(*   commit / rollback           Participant.Commit / Rollback (phase 2)    *)
(*   ack      p -> coordinator   their responses (v = "commit"/"rollback")  *)
(*   ask      p -> coordinator   Coordinator.GetOutcome                     *)
(*   outcome  coordinator -> p   its response (v = "COMMITTED"/"ABORTED")   *)
Msg(t, p, v) == [type |-> t, p |-> p, v |-> v]
MsgTypes == {"prepare", "vote", "commit", "rollback", "ack", "ask", "outcome"}

Send(ms) == msgs' = msgs \cup ms

-----------------------------------------------------------------------------
TypeOK ==
  /\ cState \in CStates
  /\ cVotes \in [P -> Votes \cup {"none"}]
  /\ cAwait \subseteq P
  /\ cWriting \in Decisions
  /\ logBegun \in BOOLEAN
  /\ logDecision \in Decisions
  /\ logYes \subseteq P
  /\ pStore \in [P -> PStores]
  /\ pUp \in [P -> BOOLEAN]
  /\ pUncertain \in [P -> BOOLEAN]
  /\ pEarly \in [P -> BOOLEAN]
  /\ \A m \in msgs : m.type \in MsgTypes /\ m.p \in P
  /\ applied \in [P -> {"none", "committed", "aborted"}]
  /\ votesCast \in [P -> SUBSET Votes]
  /\ cCrashes \in 0..MaxCoordCrashes
  /\ pCrashes \in 0..MaxPartCrashes

(* The transaction has been begun (Begin/Execute: TransactionEngine.open)  *)
(* with one branch per participant; its Begun record is queued to the log. *)
Init ==
  /\ cState = "active"
  /\ cVotes = [p \in P |-> "none"]
  /\ cAwait = {}
  /\ cWriting = "none"
  /\ logBegun = FALSE
  /\ logDecision = "none"
  /\ logYes = {}
  /\ pStore = [p \in P |-> "none"]
  /\ pUp = [p \in P |-> TRUE]
  /\ pUncertain = [p \in P |-> FALSE]
  /\ pEarly = [p \in P |-> FALSE]
  /\ msgs = {}
  /\ applied = [p \in P |-> "none"]
  /\ votesCast = [p \in P |-> {}]
  /\ cCrashes = 0
  /\ pCrashes = 0

(* The decision the coordinator holds in memory (Tx.decision).             *)
MemDecision ==
  CASE cState = "committing" -> "COMMIT"
    [] cState = "aborting"   -> "ABORT"
    [] OTHER                 -> "none"

(* DecisionLog.decide: insert-if-absent, answering the decision now in the *)
(* log ("UPDATE ... WHERE tx_id = ? AND decision IS NULL", then SELECT).   *)
Logged(d) == IF logDecision = "none" \/ Mutant = "overwrite_decision"
             THEN d ELSE logDecision

YesVoters == {p \in P : cVotes[p] = "YES"}
(* TransactionEngine.markDecided: on ABORT every branch that did not vote  *)
(* NO or READ_ONLY is ROLLING_BACK; on COMMIT every YES branch COMMITTING. *)
RollbackSet(votes) == {p \in P : votes[p] \notin {"NO", "READ_ONLY"}}

(* TransactionEngine.announce -> PhaseTwo.start: send the decision to      *)
(* every waiting branch; with none waiting, finish() at once.              *)
StartPhaseTwo(d, await) ==
  /\ cAwait' = await
  /\ cState' = IF await = {} THEN "notlive"
               ELSE IF d = "COMMIT" THEN "committing" ELSE "aborting"
  /\ Send({Msg(IF d = "COMMIT" THEN "commit" ELSE "rollback", p, "") : p \in await})

-----------------------------------------------------------------------------
(***************************** the coordinator *****************************)

(* TransactionEngine.commit(tx, ...): ACTIVE -> PREPARING and prepare() to *)
(* every branch at once (parallel prepare). Single-branch one-phase commit *)
(* is not modelled (it needs |P| = 1 and no idempotency key).              *)
ClientCommit ==
  /\ cState = "active"
  /\ cState' = "preparing"
  /\ Send({Msg("prepare", p, "") : p \in P})
  /\ UNCHANGED <<cVotes, cAwait, cWriting, logVars, partVars, histVars>>

(* The Begun record appended (lazily) by TransactionEngine.open reaches the *)
(* log. DecisionLog has one writer and a FIFO queue, so it is written      *)
(* before any Decided record of the same transaction; a crash loses it.    *)
FlushBegun ==
  /\ cState \in LiveStates
  /\ ~logBegun
  /\ logBegun' = TRUE
  /\ UNCHANGED <<coordVars, logDecision, logYes, partVars, msgs, histVars>>

(* TransactionEngine.abort: decide ABORT in memory unless a decision is    *)
(* made or DECIDING (a COMMIT write is in flight). The ABORT record is not *)
(* forced (presumed abort): rollbacks go out at once, FlushAbort writes it. *)
Abort(votes) ==
  /\ cState \in {"active", "preparing"}
  /\ cVotes' = votes
  /\ StartPhaseTwo("ABORT", RollbackSet(votes))
  /\ UNCHANGED <<cWriting, logVars, partVars, histVars>>

(* The transaction timeout (TransactionEngine.scheduleTimeout), or a       *)
(* Prepare RPC that fails or passes its deadline (prepare(): onError).     *)
Timeout == Abort(cVotes)

(* TransactionEngine.voted: a Prepare response. The first NO aborts; YES   *)
(* and READ_ONLY are recorded while PREPARING (ignored once decided).      *)
ReceiveVote ==
  \E m \in msgs :
    /\ m.type = "vote"
    /\ cState = "preparing"
    /\ cVotes[m.p] # m.v
    /\ IF m.v = "NO"
       THEN Abort([cVotes EXCEPT ![m.p] = "NO"])
       ELSE /\ cVotes' = [cVotes EXCEPT ![m.p] = m.v]
            /\ UNCHANGED <<cState, cAwait, cWriting, logVars, partVars, msgs, histVars>>

(* TransactionEngine.decideCommit: every branch voted YES or READ_ONLY.    *)
(* All READ_ONLY: COMMIT in memory, nothing to log or send, finished.      *)
(* Otherwise DECIDING while the COMMIT record is appended (writeDecision).  *)
DecideCommit ==
  /\ cState = "preparing"
  /\ \A p \in P : cVotes[p] \in {"YES", "READ_ONLY"}
  /\ IF YesVoters = {}
     THEN /\ cState' = "notlive"
          /\ UNCHANGED <<cVotes, cAwait, cWriting, logVars, msgs>>
     ELSE IF Mutant = "commit_before_log"
          \* mutant (a): announce first, log later (FlushCommitLate)
          THEN /\ StartPhaseTwo("COMMIT", YesVoters)
               /\ UNCHANGED <<cVotes, cWriting, logVars>>
          ELSE /\ cState' = "deciding"
               /\ cWriting' = "COMMIT"
               /\ UNCHANGED <<cVotes, cAwait, logVars, msgs>>
  /\ UNCHANGED <<partVars, histVars>>

(* Safety rule 1, TransactionEngine.writeDecision: the Decided record is   *)
(* durable (DecisionLog.append's future completed normally) and only then *)
(* applyDecision -> announce -> PhaseTwo.start. The decision applied is    *)
(* the one the log answers (insert-if-absent), not the one asked for.      *)
WriteLogYes(d) ==
  logYes' = IF d = "COMMIT" /\ Logged(d) = "COMMIT" /\ logDecision # "COMMIT"
            THEN YesVoters ELSE logYes

DecisionDurable ==
  /\ cState = "deciding"
  /\ LET d == Logged(cWriting) IN
       /\ logDecision' = d
       /\ WriteLogYes(cWriting)
       /\ logBegun' = TRUE   \* a Decided record carries its Begun
       /\ StartPhaseTwo(d, IF d = "COMMIT" THEN YesVoters ELSE RollbackSet(cVotes))
  /\ UNCHANGED <<cVotes, cWriting, partVars, histVars>>

(* DecisionLog.writeBatch failed: "maybe written" (the commit may have     *)
(* reached the store before the error). TransactionEngine.                 *)
(* decisionWriteFailed keeps DECIDING and retries with ABORT,              *)
(* insert-if-absent: if the COMMIT landed, that write answers COMMIT.      *)
DecisionWriteFails ==
  /\ cState = "deciding"
  /\ \E landed \in BOOLEAN :
       /\ logDecision' = IF landed THEN Logged(cWriting) ELSE logDecision
       /\ IF landed THEN WriteLogYes(cWriting) ELSE UNCHANGED logYes
       /\ logBegun' = (logBegun \/ landed)
  /\ cWriting' = "ABORT"
  /\ UNCHANGED <<cState, cVotes, cAwait, partVars, msgs, histVars>>

(* The lazy ABORT record of TransactionEngine.abort reaches the log (or    *)
(* never does: a crash or a failed batch loses it, which presumed abort    *)
(* reads the same).                                                        *)
FlushAbort ==
  /\ cState = "aborting"
  /\ logDecision = "none"
  /\ logDecision' = "ABORT"
  /\ logBegun' = TRUE
  /\ UNCHANGED <<coordVars, logYes, partVars, msgs, histVars>>

(* Mutant (a) only: the COMMIT record is written after the announcement.   *)
FlushCommitLate ==
  /\ Mutant = "commit_before_log"
  /\ cState = "committing"
  /\ logDecision = "none"
  /\ logDecision' = "COMMIT"
  /\ logYes' = YesVoters
  /\ logBegun' = TRUE
  /\ UNCHANGED <<coordVars, partVars, msgs, histVars>>

(* PhaseTwo.Ack.onNext -> acknowledged: a branch acknowledged the decision *)
(* (a response to an earlier incarnation's call is as true: decisions do   *)
(* not change). The last ack finishes the transaction (finish(): removed   *)
(* from the live map). The BranchUpdated/Finished records are lazy and not *)
(* modelled: recovery then simply resends phase 2 to every branch.         *)
ReceiveAck ==
  \E m \in msgs :
    /\ m.type = "ack"
    /\ cState \in {"committing", "aborting"}
    /\ m.p \in cAwait
    /\ m.v = IF cState = "committing" THEN "commit" ELSE "rollback"
    /\ cAwait' = cAwait \ {m.p}
    /\ cState' = IF cAwait' = {} THEN "notlive" ELSE cState
    /\ UNCHANGED <<cVotes, cWriting, logVars, partVars, msgs, histVars>>

(* PhaseTwo.failed -> send again after backoff, forever. Only a lossy      *)
(* network needs it: otherwise the message is still there to deliver.      *)
RetryPhaseTwo ==
  /\ LossyNetwork
  /\ cState \in {"committing", "aborting"}
  /\ \E p \in cAwait :
       LET m == Msg(IF cState = "committing" THEN "commit" ELSE "rollback", p, "")
       IN  /\ m \notin msgs
           /\ Send({m})
  /\ UNCHANGED <<coordVars, logVars, partVars, histVars>>

(* CoordinatorService.getOutcome -> TransactionEngine.outcome: a live      *)
(* transaction is answered from memory (IN_PROGRESS while undecided, which *)
(* changes nothing at the participant and is not sent here); otherwise     *)
(* from the log, where no decision means ABORTED (presumed abort).         *)
OutcomeAnswer ==
  IF cState \in LiveStates /\ Mutant # "outcome_presumes_abort"
  THEN CASE MemDecision = "COMMIT" -> "COMMITTED"
         [] MemDecision = "ABORT"  -> "ABORTED"
         [] OTHER                  -> "IN_PROGRESS"
  ELSE IF logDecision = "COMMIT" THEN "COMMITTED" ELSE "ABORTED"

AnswerOutcome ==
  /\ cState # "down"
  /\ \E m \in msgs :
       /\ m.type = "ask"
       /\ OutcomeAnswer # "IN_PROGRESS"
       /\ Msg("outcome", m.p, OutcomeAnswer) \notin msgs
       /\ Send({Msg("outcome", m.p, OutcomeAnswer)})
  /\ UNCHANGED <<coordVars, logVars, partVars, histVars>>

(* kill -9: the live map, votes, timers and the log's queue are gone; what *)
(* the log holds stays.                                                    *)
CoordCrash ==
  /\ cState # "down"
  /\ cCrashes < MaxCoordCrashes
  /\ cState' = "down"
  /\ cVotes' = [p \in P |-> "none"]
  /\ cAwait' = {}
  /\ cWriting' = "none"
  /\ cCrashes' = cCrashes + 1
  /\ UNCHANGED <<logVars, partVars, msgs, applied, votesCast, pCrashes>>

(* CoordinatorServer start: Recovery.run, before the server takes calls.   *)
(* Undecided and in the log: log ABORT (insert-if-absent) and roll back    *)
(* every branch (the log holds no votes before a decision). Decided:       *)
(* TransactionEngine.resume, phase 2 again (COMMIT to the branches logged  *)
(* COMMITTING; ABORT: here to every branch, a superset of the code's).     *)
(* Not in the log at all: nothing to do; GetOutcome presumes abort.        *)
CoordRecover ==
  /\ cState = "down"
  /\ IF logDecision = "none"
     THEN IF logBegun
          THEN /\ logDecision' = "ABORT"
               /\ StartPhaseTwo("ABORT", P)
               /\ UNCHANGED <<logBegun, logYes>>
          ELSE /\ cState' = "notlive"
               /\ UNCHANGED <<cAwait, logVars, msgs>>
     ELSE /\ IF logDecision = "COMMIT" /\ Mutant # "recovery_aborts_committing"
             THEN StartPhaseTwo("COMMIT", logYes)
             ELSE StartPhaseTwo("ABORT", P)
          /\ UNCHANGED logVars
  /\ UNCHANGED <<cVotes, cWriting, partVars, histVars>>

-----------------------------------------------------------------------------
(***************************** the participants ****************************)

(* BranchEngine.isPrepared: a PendingBranch is in the in-memory map,       *)
(* loaded from the pending map at start (BranchEngine.recover).            *)
InDoubt(p) == pStore[p] = "prepared" \/ pUncertain[p] \/ pEarly[p]

(* BranchEngine.recordedVote: a repeated Prepare gets the recorded vote.   *)
RecordedVote(s) ==
  CASE s = "prepared"   -> "YES"
    [] s = "committed"  -> "YES"
    [] s = "readonly"   -> "READ_ONLY"
    [] s = "votedno"    -> "NO"
    [] s = "rolledback" -> "NO"   \* "transaction already rolled back here"

Vote(p, v) ==
  /\ Send({Msg("vote", p, v)})
  /\ votesCast' = [votesCast EXCEPT ![p] = @ \cup {v}]

(* BranchEngine.prepare. A branch with no trace runs the handler and       *)
(* votes; safety rule 4: YES leaves only after the local transaction       *)
(* holding the staged writes and the prepared row committed. If that       *)
(* commit fails, the row may or may not be there: the branch is kept       *)
(* uncertain, no vote is sent (UNAVAILABLE), and the coordinator aborts.   *)
ParticipantPrepare(p) ==
  /\ pUp[p]
  /\ Msg("prepare", p, "") \in msgs
  /\ ~pUncertain[p]   \* an uncertain branch answers UNAVAILABLE: no change
  /\ IF pStore[p] # "none" \/ pEarly[p]
     THEN /\ Vote(p, IF pEarly[p] THEN "YES" ELSE RecordedVote(pStore[p]))
          /\ UNCHANGED <<partVars, applied, cCrashes, pCrashes>>
     ELSE \/ /\ Mutant # "yes_before_durable"
             /\ pStore' = [pStore EXCEPT ![p] = "prepared"]
             /\ Vote(p, "YES")
             /\ UNCHANGED <<pUp, pUncertain, pEarly, applied, cCrashes, pCrashes>>
          \/ /\ Mutant = "yes_before_durable"
             /\ pEarly' = [pEarly EXCEPT ![p] = TRUE]
             /\ Vote(p, "YES")
             /\ UNCHANGED <<pStore, pUp, pUncertain, applied, cCrashes, pCrashes>>
          \/ /\ pStore' = [pStore EXCEPT ![p] = "votedno"]
             /\ applied' = [applied EXCEPT ![p] = "aborted"]
             /\ Vote(p, "NO")
             /\ UNCHANGED <<pUp, pUncertain, pEarly, cCrashes, pCrashes>>
          \/ /\ ReadOnlyVotes
             /\ pStore' = [pStore EXCEPT ![p] = "readonly"]
             /\ Vote(p, "READ_ONLY")
             /\ UNCHANGED <<pUp, pUncertain, pEarly, applied, cCrashes, pCrashes>>
          \/ /\ \E landed \in BOOLEAN :
                  pStore' = [pStore EXCEPT ![p] = IF landed THEN "prepared" ELSE "none"]
             /\ pUncertain' = [pUncertain EXCEPT ![p] = TRUE]
             /\ UNCHANGED <<pUp, pEarly, msgs, histVars>>
  /\ UNCHANGED <<coordVars, logVars>>

(* Mutant (b) only: the prepared row is committed after the YES left.      *)
PersistEarly(p) ==
  /\ pUp[p]
  /\ pEarly[p]
  /\ pStore' = [pStore EXCEPT ![p] = "prepared"]
  /\ pEarly' = [pEarly EXCEPT ![p] = FALSE]
  /\ UNCHANGED <<coordVars, logVars, pUp, pUncertain, msgs, histVars>>

(* BranchEngine.finish(b, commit): one local transaction deletes the       *)
(* prepared row, runs the handler and records the fate. If no row was      *)
(* there (an uncertain branch whose row never landed) the handler does not *)
(* run, only the fate is recorded.                                         *)
FinishBranch(p, commit) ==
  /\ pStore' = [pStore EXCEPT ![p] = IF commit THEN "committed" ELSE "rolledback"]
  /\ applied' = [applied EXCEPT ![p] =
                   IF pStore[p] = "prepared" \/ pEarly[p]
                   THEN IF commit THEN "committed" ELSE "aborted"
                   ELSE IF commit THEN @ ELSE "aborted"]
  /\ pUncertain' = [pUncertain EXCEPT ![p] = FALSE]
  /\ pEarly' = [pEarly EXCEPT ![p] = FALSE]

(* Phase 2 at the participant, BranchEngine.commit: applies once,          *)
(* acknowledges every time. No trace at all: acknowledged as "presumed     *)
(* already committed" (its finished record was pruned). VOTED_NO or        *)
(* ROLLED_BACK: FAILED_PRECONDITION, no acknowledgement.                   *)
CommitEffect(p) ==
  IF InDoubt(p)
  THEN FinishBranch(p, TRUE)
  ELSE UNCHANGED <<pStore, pUncertain, pEarly, applied>>

ParticipantCommit(p) ==
  /\ pUp[p]
  /\ Msg("commit", p, "") \in msgs
  /\ pStore[p] \notin {"votedno", "rolledback"} \/ InDoubt(p)
  /\ CommitEffect(p)
  /\ Send({Msg("ack", p, "commit")})
  /\ UNCHANGED <<coordVars, logVars, pUp, votesCast, cCrashes, pCrashes>>

(* BranchEngine.rollback: applies once, acknowledges every time. No trace: *)
(* records ROLLED_BACK so that a late Prepare votes NO. COMMITTED:         *)
(* FAILED_PRECONDITION, no acknowledgement.                                *)
RollbackEffect(p) ==
  IF InDoubt(p) \/ pStore[p] = "none"
  THEN FinishBranch(p, FALSE)
  ELSE UNCHANGED <<pStore, pUncertain, pEarly, applied>>

ParticipantRollback(p) ==
  /\ pUp[p]
  /\ Msg("rollback", p, "") \in msgs
  /\ pStore[p] # "committed" \/ InDoubt(p)
  /\ RollbackEffect(p)
  /\ Send({Msg("ack", p, "rollback")})
  /\ UNCHANGED <<coordVars, logVars, pUp, votesCast, cCrashes, pCrashes>>

(* InDoubtResolver.runOnce -> resolve -> ask: an in-doubt branch asks the  *)
(* coordinator (at start, and when prepared longer than the bound).        *)
AskOutcome(p) ==
  /\ pUp[p]
  /\ InDoubt(p)
  /\ Msg("ask", p, "") \notin msgs
  /\ Send({Msg("ask", p, "")})
  /\ UNCHANGED <<coordVars, logVars, partVars, histVars>>

(* InDoubtResolver.resolve: COMMITTED -> engine.commit, ABORTED ->         *)
(* engine.rollback (IN_PROGRESS: ask again later, no change).              *)
ApplyOutcome(p) ==
  /\ pUp[p]
  /\ InDoubt(p)
  /\ \E o \in {"COMMITTED", "ABORTED"} :
       /\ Msg("outcome", p, o) \in msgs
       /\ FinishBranch(p, o = "COMMITTED")
  /\ UNCHANGED <<coordVars, logVars, pUp, msgs, votesCast, cCrashes, pCrashes>>

(* A participant process dies: the in-memory map, staging and locks are    *)
(* gone; its store stays. Under mutant (b) a YES whose row was not yet     *)
(* committed loses the prepared work with the local transaction.           *)
PartCrash(p) ==
  /\ pUp[p]
  /\ pCrashes < MaxPartCrashes
  /\ pUp' = [pUp EXCEPT ![p] = FALSE]
  /\ pUncertain' = [pUncertain EXCEPT ![p] = FALSE]
  /\ pEarly' = [pEarly EXCEPT ![p] = FALSE]
  /\ pCrashes' = pCrashes + 1
  /\ UNCHANGED <<coordVars, logVars, pStore, msgs, applied, votesCast, cCrashes>>

(* BranchEngine.recover: reload the pending map (and its locks) before     *)
(* serving; the resolver then asks about each recovered branch.            *)
PartRecover(p) ==
  /\ ~pUp[p]
  /\ pUp' = [pUp EXCEPT ![p] = TRUE]
  /\ UNCHANGED <<coordVars, logVars, pStore, pUncertain, pEarly, msgs, histVars>>

(* The network loses a message. Delivery never removes one, so every       *)
(* message can also be delivered any number of times, in any order.        *)
Drop ==
  /\ LossyNetwork
  /\ \E m \in msgs : msgs' = msgs \ {m}
  /\ UNCHANGED <<coordVars, logVars, partVars, histVars>>

-----------------------------------------------------------------------------
Next ==
  \/ ClientCommit \/ FlushBegun \/ Timeout \/ ReceiveVote \/ DecideCommit
  \/ DecisionDurable \/ DecisionWriteFails \/ FlushAbort \/ FlushCommitLate
  \/ ReceiveAck \/ RetryPhaseTwo \/ AnswerOutcome \/ CoordCrash \/ CoordRecover
  \/ Drop
  \/ \E p \in P :
       \/ ParticipantPrepare(p) \/ PersistEarly(p) \/ ParticipantCommit(p)
       \/ ParticipantRollback(p) \/ AskOutcome(p) \/ ApplyOutcome(p)
       \/ PartCrash(p) \/ PartRecover(p)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(********************************* safety **********************************)

(* 1. Atomicity: no branch commits while another branch of the same        *)
(*    transaction aborts.                                                   *)
Atomicity ==
  ~ \E p, q \in P : applied[p] = "committed" /\ applied[q] = "aborted"

(* 2. A participant commits only if every participant voted YES (or        *)
(*    READ_ONLY), none voted NO, and the COMMIT decision is durable.       *)
CommitOnlyIfAllYesAndLogged ==
  \A p \in P : applied[p] = "committed" =>
     /\ logDecision = "COMMIT"
     /\ \A q \in P : /\ votesCast[q] \cap {"YES", "READ_ONLY"} # {}
                     /\ "NO" \notin votesCast[q]

(* 3. A durable decision never changes (an action property).              *)
DecisionNeverChanges ==
  [][logDecision # "none" => logDecision' = logDecision]_logDecision

(* 4. An acknowledged commit is never lost: a branch that acknowledged     *)
(*    COMMIT has committed its work (or had none: READ_ONLY).              *)
AckedCommitApplied ==
  \A p \in P : Msg("ack", p, "commit") \in msgs =>
     applied[p] = "committed" \/ pStore[p] = "readonly"

(* The participants are interchangeable (safety checking only).           *)
Symmetry == Permutations(P)

-----------------------------------------------------------------------------
(******************************** liveness *********************************)

(* Every step that the code retries or schedules eventually happens: the   *)
(* processes restart, timeouts fire, messages still in the network are     *)
(* delivered, the resolver asks, the log writer writes. Crashes are        *)
(* bounded, so they stop. No fairness for the client's Commit: a client    *)
(* that never commits is aborted by the transaction timeout.               *)
Fairness ==
  /\ WF_vars(CoordRecover) /\ WF_vars(Timeout) /\ WF_vars(ReceiveVote)
  /\ WF_vars(DecideCommit) /\ WF_vars(DecisionDurable) /\ WF_vars(ReceiveAck)
  /\ WF_vars(AnswerOutcome)
  /\ \A p \in P :
       /\ WF_vars(PartRecover(p)) /\ WF_vars(ParticipantPrepare(p))
       /\ WF_vars(ParticipantCommit(p)) /\ WF_vars(ParticipantRollback(p))
       /\ WF_vars(AskOutcome(p)) /\ WF_vars(ApplyOutcome(p))

LiveSpec == Spec /\ Fairness

(* An in-doubt branch (BranchEngine.isPrepared) eventually learns the      *)
(* outcome and applies it: nobody stays blocked holding locks once crashes *)
(* stop. (A prepared row leaves the pending map only by commit or          *)
(* rollback; an uncertain branch whose row never landed is forgotten by a  *)
(* crash.)                                                                 *)
InDoubtResolved == \A p \in P : InDoubt(p) ~> ~InDoubt(p)

(* The coordinator eventually finishes phase 2 (or is down for good, which *)
(* the fairness of CoordRecover rules out).                                *)
CoordinatorFinishes == <>[](cState = "notlive")

=============================================================================
