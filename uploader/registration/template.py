"""The example payload `uploader register-grouped --template` prints.

JSON has no comments, so every object may carry a `"//"` key (a string or a list of
strings); `register-grouped` drops those keys before it validates and sends the payload.
"""

from __future__ import annotations

TEMPLATE = """\
{
  "//": [
    "A grouped device (I-REC, Group Solar Rooftop): devices, each with its inverters.",
    "Every \\"//\\" key is a comment; register-grouped drops them before sending.",
    "At most 500 inverters in all, each at most 250 kW, at most 125 MW in total.",
    "Dates are YYYY-MM-DD and none may be in the future. GroupedEnglishName in English;",
    "Province: for CN, VN and MY its ISO 3166-2 code (AH or CN-AH), else its name.",
    "Check it without sending anything: uploader register-grouped FILE --dry-run"
  ],
  "GroupedLocalName": "SEASolar-Singapore-20240516001",
  "GroupedEnglishName": "SEASolar-Singapore-20240516001",
  "CountryCode": "SG",
  "Province": "Singapore",
  "Timezone": "UTC+08:00",
  "GenerationDataFrequency": "Daily",
  "Devices": [
    {
      "//": [
        "InstallationName: Company-Province-NNNNNN (from 000001), as on the ODF's appendix",
        "table. Address in English (printable ASCII). Latitude/Longitude: at most 6 decimals,",
        "inside the country. FeedInTariff must be the same for every device.",
        "PercentageRenewable: state it (the registration page gives two defaults, 0 and 100).",
        "DeclarationFormFile: the ODF (searchable PDF, at most 5 MB), relative to this file;",
        "it is uploaded and replaced by its DeclarationFormFileId. An id already uploaded",
        "may be given as DeclarationFormFileId instead."
      ],
      "InstallationName": "SEASolarDeveloper-Singapore-000001",
      "Address": "1 Jago Close, Singapore",
      "PostalCode": "431231",
      "Latitude": 1.305278,
      "Longitude": 103.90861,
      "GridConnectionDate": "2022-05-13",
      "OwnersDeclarationStartDate": "2022-05-13",
      "OwnersDeclarationEndDate": "2032-05-13",
      "Domestic": true,
      "FeedInTariff": false,
      "PercentageRenewable": 100,
      "DeclarationFormFile": "odf/device-1.pdf",
      "Inverters": [
        {
          "//": [
            "RemoteInvId is your id for the inverter, used to push its generation.",
            "ElectronicSerialNumber is unique per brand. BrandCode from `uploader brands`;",
            "a brand not listed: BrandCode OT27 and its name in OtherBrandName.",
            "InstalledCapacity in kW, at most 3 decimals."
          ],
          "RemoteInvId": "RM1000020003386274014",
          "ElectronicSerialNumber": "HW2343243244414",
          "BrandCode": "HW21",
          "OtherBrandName": "",
          "InstalledCapacity": 10.9
        },
        {
          "//": [
            "A faulty inverter replaced before registration: its effective period ends,",
            "and ReplacedRemoteInvId (the seed page's name; ReplacedByRemoteInvId, the later",
            "pages' name, is read as it) names its replacement in this same request."
          ],
          "RemoteInvId": "RM1000020003386274015",
          "ElectronicSerialNumber": "PN-778812",
          "BrandCode": "OT27",
          "OtherBrandName": "Panasonic",
          "InstalledCapacity": 5.5,
          "EffectiveStartDate": "2022-05-13",
          "EffectiveEndDate": "2024-02-01",
          "ReplacedRemoteInvId": "RM1000020003386274016"
        },
        {
          "RemoteInvId": "RM1000020003386274016",
          "ElectronicSerialNumber": "HW2343243244999",
          "BrandCode": "HW21",
          "OtherBrandName": "",
          "InstalledCapacity": 5.5,
          "EffectiveStartDate": "2024-02-02"
        }
      ]
    }
  ]
}
"""
