//! `kubectl codex check`: the agent may do what it must and nothing more, every pod on the
//! shared workspace runs as the declared identity with its declared mount mode, and the
//! environment's posture (Pod Security level, NetworkPolicy, quota, workloads admission would
//! refuse) is what services.yaml declares.

mod report;
mod text;

use super::connect::{connect, require_namespace, runtime};
use super::load::resolve;
use super::output::{self, Layout};
use crate::cli::CheckArgs;
use crate::cluster::access_review;
use crate::cluster::posture;
use crate::cluster::slot_access::AGENT_ACCOUNT;
use crate::cluster::workspace_audit::{self, Declared, Identity};
use crate::exit::Failure;
use report::{Checked, Subject, Workspace};

pub fn run(args: &CheckArgs) -> Result<(), Failure> {
    let stack = resolve(&args.file.file, &args.selection, args.output.format)?;
    let rules = stack.agent.as_ref().map(|a| a.permissions.clone()).unwrap_or_default();
    let namespace = stack.namespace.clone();
    let (user, groups) = access_review::service_account_subject(&namespace, AGENT_ACCOUNT);
    let w = &stack.workspace;
    let identity = Identity { uid: w.uid.into(), gid: w.gid.into(), fs_group: w.fs_group.into() };
    let declared = Declared {
        units: stack.units.iter().filter_map(|u| Some((u.name.clone(), u.workspace.as_ref()?.read_only))).collect(),
        agent: stack.agent.as_ref().map(|a| a.workspace.read_only),
    };
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        require_namespace(&client, &stack).await?;
        let secrets: Vec<String> = stack.secrets.iter().map(|s| s.name.clone()).collect();
        let questions = access_review::questions(&namespace, &rules, &secrets);
        let answers = access_review::review(&client, &user, &groups, questions).await?;
        let bindings = access_review::bindings(&client, &namespace, AGENT_ACCOUNT, &rules).await?;
        let workloads = workspace_audit::audit(&client, &namespace, &w.claim_name, identity, &declared).await?;
        let posture = posture::read(&client, &namespace, &stack.isolation).await?;
        let report = Checked::new(
            namespace.clone(),
            Subject { user, groups },
            Workspace { claim_name: w.claim_name.clone(), identity },
            answers,
            bindings,
            workloads,
            posture,
        );
        output::print(&report, args.output.format, Layout::Pretty)?;
        if !report.passed {
            return Err(Failure::VerifyFailed);
        }
        Ok::<(), Failure>(())
    })
}
