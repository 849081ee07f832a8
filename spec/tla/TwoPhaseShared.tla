--------------------------- MODULE TwoPhaseShared ---------------------------
(***************************************************************************)
(* Several coordinator nodes N on one shared decision log (issue 14): the  *)
(* design that lets any node answer for any transaction and take over a   *)
(* dead (or paused) owner's, checked before it is built. One transaction, *)
(* begun on node Owner0, with one branch at each participant of P.        *)
(*                                                                         *)
(* What it must show: safety comes from the database, not from clocks.    *)
(*  - The decision is one compare-and-set on the transaction row          *)
(*    (undecided -> COMMIT or undecided -> ABORT; the first writer wins). *)
(*  - GetOutcome on a node that is not running the transaction answers    *)
(*    from the log, and where the log holds no decision it first writes   *)
(*    an ABORT tombstone with that same compare-and-set, so that an owner *)
(*    still preparing can never commit after somebody was told ABORTED.   *)
(*  - Ownership (owner, epoch) is taken over with a compare-and-set too;  *)
(*    a node may believe the owner's lease expired at ANY moment (a pause,*)
(*    clock skew): Claim has no guard on time at all. The claimer resumes *)
(*    what it finds: undecided -> ABORT (compare-and-set), decided ->     *)
(*    phase 2 of that decision. The old owner may go on running, late.    *)
(*                                                                         *)
(* The single-node model, with its crash, log-flush and participant       *)
(* details, is TwoPhase.tla; this one keeps the participants simple       *)
(* (durable YES or NO, idempotent phase 2, asking any node) and models    *)
(* what several nodes add. Mutant = "none" is the design.                 *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, TLC

CONSTANTS
    P,               \* the participants, one branch each
    N,               \* the coordinator nodes
    Owner0,          \* the node the client began the transaction on
    MaxClaims,       \* bound on takeovers
    MaxNodeCrashes,  \* bound on node crashes, all nodes together
    Mutant

Mutants ==
  { "none",
    \* (a) GetOutcome on a node not running the transaction answers ABORTED
    \*     from an undecided log without writing the tombstone (presumed
    \*     abort as a single node may do it).
    "outcome_no_tombstone",
    \* (b) The node that takes a transaction over treats a logged COMMIT as
    \*     undecided and rolls every branch back.
    "claim_aborts_committed",
    \* (c) The decision is written blindly (last writer wins), not with a
    \*     compare-and-set on the undecided row.
    "blind_decision" }

ASSUME Mutant \in Mutants
ASSUME Owner0 \in N /\ MaxClaims \in Nat /\ MaxNodeCrashes \in Nat

VARIABLES
  (*** each node, volatile: its Tx for this transaction, if it runs it ***)
  nState,      \* see NStates
  nVotes,      \* the votes the node heard
  nAwait,      \* branches its phase 2 still has to reach
  nWriting,    \* in "deciding": the decision being written
  nEpoch,      \* the epoch under which the node took (or began) the transaction
  (*** the shared log: the transaction's row ***)
  logRow,      \* the row exists (Begun written, or a decision / tombstone inserted it)
  logDecision, \* "none", "COMMIT" or "ABORT"
  logYes,      \* the branches a COMMIT decision logged as COMMITTING
  logOwner,    \* the owner column
  logEpoch,    \* the epoch column: bumped by every takeover
  (*** participants, durable ***)
  pStore,      \* "none", "prepared", "committed", "rolledback", "votedno"
  (*** the network: records [type, p, n, v]; delivery keeps a message ***)
  msgs,
  (*** history and bounds ***)
  applied, votesCast, claims, crashes

nodeVars == <<nState, nVotes, nAwait, nWriting, nEpoch>>
logVars  == <<logRow, logDecision, logYes, logOwner, logEpoch>>
histVars == <<applied, votesCast, claims, crashes>>
vars     == <<nodeVars, logVars, pStore, msgs, histVars>>

(* "idle": the node does not run the transaction (never did, finished it, *)
(* restarted, or lost it to a takeover it noticed); "claimed": it won the  *)
(* ownership compare-and-set and has not yet read what to resume.          *)
NStates == {"idle", "active", "preparing", "deciding", "committing", "aborting",
            "claimed", "down"}
LiveStates == {"active", "preparing", "deciding", "committing", "aborting", "claimed"}

Msg(t, p, n, v) == [type |-> t, p |-> p, n |-> n, v |-> v]
Send(ms) == msgs' = msgs \cup ms

TypeOK ==
  /\ nState \in [N -> NStates]
  /\ nVotes \in [N -> [P -> {"none", "YES", "NO"}]]
  /\ nAwait \in [N -> SUBSET P]
  /\ nWriting \in [N -> {"none", "COMMIT", "ABORT"}]
  /\ nEpoch \in [N -> Nat]
  /\ logRow \in BOOLEAN
  /\ logDecision \in {"none", "COMMIT", "ABORT"}
  /\ logYes \subseteq P
  /\ logOwner \in N
  /\ logEpoch \in Nat
  /\ pStore \in [P -> {"none", "prepared", "committed", "rolledback", "votedno"}]
  /\ applied \in [P -> {"none", "committed", "aborted"}]

Init ==
  /\ nState = [n \in N |-> IF n = Owner0 THEN "active" ELSE "idle"]
  /\ nVotes = [n \in N |-> [p \in P |-> "none"]]
  /\ nAwait = [n \in N |-> {}]
  /\ nWriting = [n \in N |-> "none"]
  /\ nEpoch = [n \in N |-> IF n = Owner0 THEN 1 ELSE 0]
  /\ logRow = FALSE
  /\ logDecision = "none"
  /\ logYes = {}
  /\ logOwner = Owner0
  /\ logEpoch = 1
  /\ pStore = [p \in P |-> "none"]
  /\ msgs = {}
  /\ applied = [p \in P |-> "none"]
  /\ votesCast = [p \in P |-> {}]
  /\ claims = 0
  /\ crashes = 0

(* UPDATE twopc_tx SET decision = d WHERE tx_id = ? AND decision IS NULL   *)
(* (an INSERT of the row if there is none), then SELECT decision: what the *)
(* writer goes on with is what the log holds, its own or the first one.    *)
Logged(d) == IF logDecision = "none" \/ Mutant = "blind_decision" THEN d ELSE logDecision

WriteDecision(d, yes) ==
  /\ logDecision' = Logged(d)
  /\ logYes' = IF Logged(d) = "COMMIT" /\ logDecision # "COMMIT" THEN yes ELSE logYes
  /\ logRow' = TRUE

YesVoters(n) == {p \in P : nVotes[n][p] = "YES"}
RollbackSet(n) == {p \in P : nVotes[n][p] # "NO"}

(* Phase 2 from node n: the decision to every branch in await.             *)
StartPhaseTwo(n, d, await) ==
  /\ nAwait' = [nAwait EXCEPT ![n] = await]
  /\ nState' = [nState EXCEPT ![n] =
                  IF await = {} THEN "idle"
                  ELSE IF d = "COMMIT" THEN "committing" ELSE "aborting"]
  /\ Send({Msg(IF d = "COMMIT" THEN "commit" ELSE "rollback", p, n, "") : p \in await})

-----------------------------------------------------------------------------
(*************************** the owner's protocol ***************************)

ClientCommit(n) ==
  /\ nState[n] = "active"
  /\ nState' = [nState EXCEPT ![n] = "preparing"]
  /\ Send({Msg("prepare", p, n, "") : p \in P})
  /\ UNCHANGED <<nVotes, nAwait, nWriting, nEpoch, logVars, pStore, histVars>>

(* The Begun record: the row, with owner and epoch, reaches the log        *)
(* (lazily; a crash may lose it, and then nobody can claim the             *)
(* transaction: its prepared branches ask, and hear ABORTED).              *)
FlushBegun(n) ==
  /\ nState[n] \in {"active", "preparing", "deciding"}
  /\ n = Owner0 /\ ~logRow
  /\ logRow' = TRUE
  /\ UNCHANGED <<nodeVars, logDecision, logYes, logOwner, logEpoch, pStore, msgs, histVars>>

(* ABORT in memory (timeout, a NO, a failed Prepare); rollbacks at once;   *)
(* the record is lazy (FlushAbort), presumed abort reads the same.         *)
Abort(n, votes) ==
  /\ nState[n] \in {"active", "preparing"}
  /\ nVotes' = [nVotes EXCEPT ![n] = votes]
  /\ StartPhaseTwo(n, "ABORT", {p \in P : votes[p] # "NO"})
  /\ UNCHANGED <<nWriting, nEpoch, logVars, pStore, histVars>>

Timeout(n) == Abort(n, nVotes[n])

FlushAbort(n) ==
  /\ nState[n] = "aborting"
  /\ logDecision = "none"
  /\ WriteDecision("ABORT", {})
  /\ UNCHANGED <<nodeVars, logOwner, logEpoch, pStore, msgs, histVars>>

ReceiveVote(n) ==
  \E m \in msgs :
    /\ m.type = "vote" /\ m.n = n
    /\ nState[n] = "preparing"
    /\ nVotes[n][m.p] # m.v
    /\ IF m.v = "NO"
       THEN Abort(n, [nVotes[n] EXCEPT ![m.p] = "NO"])
       ELSE /\ nVotes' = [nVotes EXCEPT ![n][m.p] = m.v]
            /\ UNCHANGED <<nState, nAwait, nWriting, nEpoch, logVars, pStore, msgs, histVars>>

DecideCommit(n) ==
  /\ nState[n] = "preparing"
  /\ \A p \in P : nVotes[n][p] = "YES"
  /\ nState' = [nState EXCEPT ![n] = "deciding"]
  /\ nWriting' = [nWriting EXCEPT ![n] = "COMMIT"]
  /\ UNCHANGED <<nVotes, nAwait, nEpoch, logVars, pStore, msgs, histVars>>

(* The decision write completes: phase 2 with what the log answered. Not  *)
(* fenced by the epoch: a node that lost the transaction to a takeover     *)
(* still learns the decision from its compare-and-set, and so does the     *)
(* claimer when it resumes.                                                *)
DecisionDurable(n) ==
  /\ nState[n] = "deciding"
  /\ WriteDecision(nWriting[n], YesVoters(n))
  /\ StartPhaseTwo(n, Logged(nWriting[n]),
                   IF Logged(nWriting[n]) = "COMMIT" THEN YesVoters(n) ELSE RollbackSet(n))
  /\ UNCHANGED <<nVotes, nWriting, nEpoch, logOwner, logEpoch, pStore, histVars>>

(* A failed write is "maybe written"; the node retries with ABORT.         *)
DecisionWriteFails(n) ==
  /\ nState[n] = "deciding"
  /\ \E landed \in BOOLEAN :
       IF landed THEN WriteDecision(nWriting[n], YesVoters(n)) ELSE UNCHANGED <<logRow, logDecision, logYes>>
  /\ nWriting' = [nWriting EXCEPT ![n] = "ABORT"]
  /\ UNCHANGED <<nState, nVotes, nAwait, nEpoch, logOwner, logEpoch, pStore, msgs, histVars>>

ReceiveAck(n) ==
  \E m \in msgs :
    /\ m.type = "ack" /\ m.n = n
    /\ nState[n] \in {"committing", "aborting"}
    /\ m.p \in nAwait[n]
    /\ m.v = IF nState[n] = "committing" THEN "commit" ELSE "rollback"
    /\ nAwait' = [nAwait EXCEPT ![n] = @ \ {m.p}]
    /\ nState' = [nState EXCEPT ![n] = IF nAwait'[n] = {} THEN "idle" ELSE @]
    /\ UNCHANGED <<nVotes, nWriting, nEpoch, logVars, pStore, msgs, histVars>>

-----------------------------------------------------------------------------
(*************************** any node, any time *****************************)

(* GetOutcome at node n. Running the transaction: from memory (nothing is  *)
(* sent while undecided: IN_PROGRESS). Otherwise from the log; with no     *)
(* decision there, the ABORT tombstone is written first (insert-if-absent) *)
(* and the answer is what the log then holds.                              *)
AnswerOutcome(n) ==
  /\ nState[n] # "down"
  /\ \E m \in msgs :
       /\ m.type = "ask" /\ m.n = n
       /\ IF nState[n] \in LiveStates
          THEN LET d == CASE nState[n] = "committing" -> "COMMIT"
                          [] nState[n] = "aborting"   -> "ABORT"
                          [] OTHER                    -> "none"
               IN /\ d # "none"
                  /\ Send({Msg("outcome", m.p, n, IF d = "COMMIT" THEN "COMMITTED" ELSE "ABORTED")})
                  /\ UNCHANGED logVars
          ELSE IF logDecision = "none" /\ Mutant = "outcome_no_tombstone"
          THEN /\ Send({Msg("outcome", m.p, n, "ABORTED")})
               /\ UNCHANGED logVars
          ELSE /\ WriteDecision("ABORT", {})
               /\ Send({Msg("outcome", m.p, n,
                            IF Logged("ABORT") = "COMMIT" THEN "COMMITTED" ELSE "ABORTED")})
               /\ UNCHANGED <<logOwner, logEpoch>>
  /\ UNCHANGED <<nodeVars, pStore, histVars>>

(* Node m believes the owner's lease expired (at any moment: no clock is   *)
(* trusted) and takes the unfinished row over: UPDATE ... SET owner = m,   *)
(* epoch = epoch + 1 WHERE owner = ? AND epoch = ?. One claimer wins.      *)
Claim(m) ==
  /\ nState[m] = "idle"
  /\ logRow /\ logOwner # m
  /\ claims < MaxClaims
  /\ logOwner' = m
  /\ logEpoch' = logEpoch + 1
  /\ nEpoch' = [nEpoch EXCEPT ![m] = logEpoch + 1]
  /\ nState' = [nState EXCEPT ![m] = "claimed"]
  /\ nVotes' = [nVotes EXCEPT ![m] = [p \in P |-> "none"]]
  /\ claims' = claims + 1
  /\ UNCHANGED <<nAwait, nWriting, logRow, logDecision, logYes, pStore, msgs,
                 applied, votesCast, crashes>>

(* The claimer resumes what the log holds, as restart recovery does:       *)
(* undecided -> ABORT (compare-and-set; if the old owner's COMMIT landed   *)
(* first, that is what it resumes), decided -> phase 2 of that decision.   *)
(* It holds no votes: an ABORT goes to every branch.                       *)
Resume(m) ==
  /\ nState[m] = "claimed"
  /\ nEpoch[m] = logEpoch
  /\ IF logDecision = "COMMIT" /\ Mutant # "claim_aborts_committed"
     THEN /\ StartPhaseTwo(m, "COMMIT", logYes)
          /\ UNCHANGED <<logRow, logDecision, logYes>>
     ELSE IF Mutant = "claim_aborts_committed"
     THEN /\ StartPhaseTwo(m, "ABORT", P)   \* mutant (b): rollbacks whatever is logged
          /\ UNCHANGED <<logRow, logDecision, logYes>>
     ELSE /\ WriteDecision("ABORT", {})
          /\ StartPhaseTwo(m, Logged("ABORT"),
                           IF Logged("ABORT") = "COMMIT" THEN logYes ELSE P)
  /\ UNCHANGED <<nVotes, nWriting, nEpoch, logOwner, logEpoch, pStore, histVars>>

(* A claimer that lost the row to a later claim before it resumed sees   *)
(* another owner and epoch, and lets the transaction go.                   *)
FencedOut(m) ==
  /\ nState[m] = "claimed"
  /\ nEpoch[m] # logEpoch
  /\ nState' = [nState EXCEPT ![m] = "idle"]
  /\ UNCHANGED <<nVotes, nAwait, nWriting, nEpoch, logVars, pStore, msgs, histVars>>

(* kill -9 of a node: its memory is gone, the log stays; it comes back     *)
(* idle (NodeRestart) and no longer owns anything until it claims.         *)
NodeCrash(n) ==
  /\ nState[n] # "down"
  /\ crashes < MaxNodeCrashes
  /\ nState' = [nState EXCEPT ![n] = "down"]
  /\ nVotes' = [nVotes EXCEPT ![n] = [p \in P |-> "none"]]
  /\ nAwait' = [nAwait EXCEPT ![n] = {}]
  /\ nWriting' = [nWriting EXCEPT ![n] = "none"]
  /\ crashes' = crashes + 1
  /\ UNCHANGED <<nEpoch, logVars, pStore, msgs, applied, votesCast, claims>>

NodeRestart(n) ==
  /\ nState[n] = "down"
  /\ nState' = [nState EXCEPT ![n] = "idle"]
  /\ UNCHANGED <<nVotes, nAwait, nWriting, nEpoch, logVars, pStore, msgs, histVars>>

-----------------------------------------------------------------------------
(******************************* participants *******************************)

InDoubt(p) == pStore[p] = "prepared"

(* A Prepare from any node: YES durable first, or NO; a repeated one gets  *)
(* the recorded vote.                                                      *)
ParticipantPrepare(p) ==
  \E m \in msgs :
    /\ m.type = "prepare" /\ m.p = p
    /\ IF pStore[p] = "none"
       THEN \E v \in {"YES", "NO"} :
              /\ pStore' = [pStore EXCEPT ![p] = IF v = "YES" THEN "prepared" ELSE "votedno"]
              /\ applied' = [applied EXCEPT ![p] = IF v = "NO" THEN "aborted" ELSE @]
              /\ votesCast' = [votesCast EXCEPT ![p] = @ \cup {v}]
              /\ Send({Msg("vote", p, m.n, v)})
       ELSE /\ Send({Msg("vote", p, m.n,
                         IF pStore[p] \in {"prepared", "committed"} THEN "YES" ELSE "NO")})
            /\ UNCHANGED <<pStore, applied, votesCast>>
  /\ UNCHANGED <<nodeVars, logVars, claims, crashes>>

Finish(p, commit) ==
  /\ pStore' = [pStore EXCEPT ![p] = IF commit THEN "committed" ELSE "rolledback"]
  /\ applied' = [applied EXCEPT ![p] =
                   IF pStore[p] = "prepared" THEN IF commit THEN "committed" ELSE "aborted"
                   ELSE IF commit THEN @ ELSE "aborted"]

(* Phase 2 from any node: applied once, acknowledged every time (to the   *)
(* node that sent it); refused where it contradicts what is recorded.     *)
ParticipantCommit(p) ==
  \E m \in msgs :
    /\ m.type = "commit" /\ m.p = p
    /\ pStore[p] \notin {"votedno", "rolledback"}
    /\ IF InDoubt(p) THEN Finish(p, TRUE) ELSE UNCHANGED <<pStore, applied>>
    /\ Send({Msg("ack", p, m.n, "commit")})
    /\ UNCHANGED <<nodeVars, logVars, votesCast, claims, crashes>>

ParticipantRollback(p) ==
  \E m \in msgs :
    /\ m.type = "rollback" /\ m.p = p
    /\ pStore[p] # "committed"
    /\ IF pStore[p] \in {"prepared", "none"} THEN Finish(p, FALSE)
       ELSE UNCHANGED <<pStore, applied>>
    /\ Send({Msg("ack", p, m.n, "rollback")})
    /\ UNCHANGED <<nodeVars, logVars, votesCast, claims, crashes>>

(* An in-doubt branch asks any node (its coordinator link fails over).    *)
AskOutcome(p) ==
  /\ InDoubt(p)
  /\ \E n \in N :
       /\ Msg("ask", p, n, "") \notin msgs
       /\ Send({Msg("ask", p, n, "")})
  /\ UNCHANGED <<nodeVars, logVars, pStore, histVars>>

ApplyOutcome(p) ==
  /\ InDoubt(p)
  /\ \E m \in msgs :
       /\ m.type = "outcome" /\ m.p = p
       /\ Finish(p, m.v = "COMMITTED")
  /\ UNCHANGED <<nodeVars, logVars, msgs, votesCast, claims, crashes>>

-----------------------------------------------------------------------------
Next ==
  \/ \E n \in N :
       \/ ClientCommit(n) \/ FlushBegun(n) \/ Timeout(n) \/ FlushAbort(n)
       \/ ReceiveVote(n) \/ DecideCommit(n) \/ DecisionDurable(n)
       \/ DecisionWriteFails(n) \/ ReceiveAck(n) \/ AnswerOutcome(n)
       \/ Claim(n) \/ Resume(n) \/ FencedOut(n) \/ NodeCrash(n) \/ NodeRestart(n)
  \/ \E p \in P :
       \/ ParticipantPrepare(p) \/ ParticipantCommit(p) \/ ParticipantRollback(p)
       \/ AskOutcome(p) \/ ApplyOutcome(p)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(********************************* safety **********************************)

Atomicity == ~ \E p, q \in P : applied[p] = "committed" /\ applied[q] = "aborted"

CommitOnlyIfAllYesAndLogged ==
  \A p \in P : applied[p] = "committed" =>
     /\ logDecision = "COMMIT"
     /\ \A q \in P : "YES" \in votesCast[q] /\ "NO" \notin votesCast[q]

(* No node's answer is ever contradicted by the log: COMMITTED only once   *)
(* COMMIT is logged, ABORTED never where COMMIT is (the owner's own ABORT  *)
(* may still be on its way to the log: presumed abort).                    *)
OutcomeAnswersAgreeWithTheLog ==
  \A m \in msgs : m.type = "outcome" =>
     IF m.v = "COMMITTED" THEN logDecision = "COMMIT" ELSE logDecision # "COMMIT"

DecisionNeverChanges ==
  [][logDecision # "none" => logDecision' = logDecision]_logDecision

AckedCommitApplied ==
  \A p \in P : (\E m \in msgs : m.type = "ack" /\ m.p = p /\ m.v = "commit") =>
     applied[p] = "committed"

Symmetry == Permutations(P)
=============================================================================
