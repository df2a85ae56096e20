//! The workers: each takes a job (list a group, or sign and create one customer's record)
//! and answers with what the server said. They decide nothing.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use crate::client::Client;
use crate::error::Error;
use crate::models::{IdentityRecord, ListParams, PostIdentityRecord};
use crate::signer::AttestationSigner;
use crate::sync::lock;

pub(crate) enum Job {
    List {
        group: u64,
        customers: Vec<String>,
    },
    Create {
        group: u64,
        index: usize,
        customer: String,
    },
}

pub(crate) enum Reply {
    Listed {
        group: u64,
        /// The customers listed: only they are judged by the answer.
        customers: Vec<String>,
        sent: Instant,
        result: Result<Vec<IdentityRecord>, Error>,
    },
    Created {
        group: u64,
        index: usize,
        result: Result<IdentityRecord, Error>,
    },
}

pub(crate) fn work(
    jobs: &Mutex<Receiver<Job>>,
    replies: &Sender<Reply>,
    client: &Client,
    signer: &AttestationSigner,
) {
    loop {
        let job = lock(jobs).recv();
        let reply = match job {
            Err(_) => return,
            Ok(Job::List { group, customers }) => {
                let sent = Instant::now();
                let params = customers
                    .iter()
                    .fold(ListParams::new(), |p, c| p.customer_guid(c.as_str()));
                let result = client.identity_records(&params).collect();
                Reply::Listed {
                    group,
                    customers,
                    sent,
                    result,
                }
            }
            Ok(Job::Create {
                group,
                index,
                customer,
            }) => {
                let result = signer.sign_for(&customer).and_then(|token| {
                    client.create_identity_record(&PostIdentityRecord::attestation(customer, token))
                });
                Reply::Created {
                    group,
                    index,
                    result,
                }
            }
        };
        if replies.send(reply).is_err() {
            return;
        }
    }
}
