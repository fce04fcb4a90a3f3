//! `kubectl codex status`: an environment's namespace, lease and TTL, releases and units.

mod report;
mod watch;

use super::connect::{connect, runtime};
use super::load::target_namespace;
use crate::cli::{OutputFormat, StatusArgs};
use crate::cluster::{lease, namespace, posture, releases, unit_rows};
use crate::exit::Failure;
use report::{Environment, Report};

pub fn run(status_args: &StatusArgs) -> Result<(), Failure> {
    let args = &status_args.target;
    let ns_name = target_namespace(args)?;
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        if status_args.watch {
            return Ok(watch::watch(&client, &ns_name, args.output.format, status_args.watch_timeout).await?);
        }
        let report = match namespace::get(&client, &ns_name).await? {
            None => Report::missing(&ns_name),
            Some(ns) => {
                let holder = lease::current_holder(&client, &ns_name).await?;
                let now = k8s_openapi::jiff::Timestamp::now();
                let idle = namespace::idle_for(ns.last_activity.as_deref(), now);
                let ttl = namespace::ttl_of(ns.idle_ttl.as_deref());
                let records = releases::latest(&client, &ns_name, None).await?;
                let rows = unit_rows::snapshot(&client, &ns_name).await?;
                let quota = posture::read_quota_use(&client, &ns_name).await?;
                Report::Found(Box::new(Environment::new(ns, idle, ttl, holder, &records, &rows, quota)))
            }
        };
        match args.output.format {
            OutputFormat::Json => println!("{}", report.to_json()?),
            OutputFormat::Text => print!("{report}"),
        }
        Ok::<(), Failure>(())
    })
}
