namespace Collections.Grains;

/// <summary>Names of the grain storage providers and of each grain class's state (ADO.NET storage keys rows by grain id + state name).</summary>
public static class StorageNames
{
    /// <summary>The one storage provider: SQLite in the local profile, PostgreSQL in the cluster profile.</summary>
    public const string Collections = "collections";

    /// <summary>Orleans' ADO.NET provider (table <c>OrleansStorage</c>), which stored every grain's state before: read for carry-over only.</summary>
    public const string StoredBefore = "collections-adonet";

    public const string GuarantorState = "guarantor";
    public const string AccountState = "patient-account";
    public const string PolicyBookState = "cadence-policy-book";
    public const string CallTaskQueueState = "call-task-queue";
    public const string PhoneDirectoryState = "phone-directory";
    public const string RemittanceLogState = "remittance-log";
    public const string CreditBalanceRegistryState = "credit-balance-registry";
    public const string PlacementRegisterState = "placement-register";
    public const string ModelRegistryState = "scoring-model-registry";
    public const string PortfolioRescoreState = "portfolio-rescore";
    public const string WorklistDirectoryState = "worklist-directory";
    public const string ReplyReviewState = "reply-review";
    public const string PatientPaymentState = "patient-payment";
    public const string PatientPortalState = "patient-portal";
    public const string BillingOfficeQueueState = "billing-office-queue";
}
